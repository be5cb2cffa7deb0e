import { randomUUID } from 'node:crypto';
import * as messagesDb from '../../src/db/messages';
import * as tasksDb from '../../src/db/tasks';
import { purgeOld } from '../../src/services/retention';
import { startTestCairn, type TestCairn } from '../helpers/cairn';
import { insertTask } from '../helpers/tasks';

const DAY = 86_400_000;
let cairn: TestCairn;

beforeAll(async () => {
  cairn = await startTestCairn();
});
afterAll(async () => {
  await cairn.stop();
});

/** A task row as the outbox leaves it, `ageDays` after it was made (and finished, if `state` is a finished one). */
async function aTask(state: 'pending' | 'running' | 'done' | 'failed', ageDays: number): Promise<string> {
  const at = new Date(Date.now() - ageDays * DAY);
  const id = await insertTask(cairn.db);
  const finished = state === 'done' || state === 'failed';
  await cairn
    .db('tasks')
    .where({ id })
    .update({ state, created_at: at, available_at: at, completed_at: finished ? at : null });
  return id;
}

async function aMessage(expiresInDays: number): Promise<string> {
  const id = randomUUID();
  await messagesDb.insert(cairn.db, {
    id,
    project_id: randomUUID().replace(/-/g, ''),
    request_id: null,
    resource_type: 'VOLUME',
    resource_uuid: randomUUID(),
    event_id: 'VOLUME_VOLUME_001_002',
    message_level: 'ERROR',
    user_message: 'schedule allocate volume: Could not find any available weighted backend.',
    created_at: new Date(),
    expires_at: new Date(Date.now() + expiresInDays * DAY),
  });
  return id;
}

const remaining = async (table: string, ids: string[]) =>
  ((await cairn.db(table).whereIn('id', ids).select('id')) as Array<{ id: string }>).map((r) => r.id).sort();

test('finished tasks past the retention and expired messages go; open tasks, recent ones and live messages stay', async () => {
  const oldDone = await aTask('done', 10);
  const oldFailed = await aTask('failed', 8);
  const recentDone = await aTask('done', 1);
  const oldPending = await aTask('pending', 30);
  const oldRunning = await aTask('running', 30);
  const expired = await aMessage(-1);
  const live = await aMessage(29);

  expect(await purgeOld(cairn.db, { taskAgeDays: 7, messageAgeDays: 0 })).toEqual({ tasks: 2, messages: 1 });
  const tasks = [oldDone, oldFailed, recentDone, oldPending, oldRunning];
  expect(await remaining('tasks', tasks)).toEqual([recentDone, oldPending, oldRunning].sort());
  expect(await remaining('messages', [expired, live])).toEqual([live]);

  // Again: nothing more to do. With no age, every finished task goes, never an open one.
  expect(await purgeOld(cairn.db, { taskAgeDays: 7, messageAgeDays: 0 })).toEqual({ tasks: 0, messages: 0 });
  expect(await purgeOld(cairn.db, { taskAgeDays: 0, messageAgeDays: 0 })).toMatchObject({ messages: 0 });
  expect(await remaining('tasks', tasks)).toEqual([oldPending, oldRunning].sort());
});

test('a purge larger than a batch goes in several statements, all of it', async () => {
  const old = await Promise.all(Array.from({ length: 7 }, () => aTask('done', 20)));
  const before = new Date(Date.now() - 7 * DAY);
  expect(await tasksDb.purgeFinished(cairn.db, before, 3)).toBe(7);
  expect(await remaining('tasks', old)).toEqual([]);
});
