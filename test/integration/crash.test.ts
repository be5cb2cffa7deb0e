/**
 * Crashes on real PostgreSQL + RabbitMQ: a worker SIGKILLed mid-create and
 * an API SIGKILLed right after accepting one; in both, what was accepted
 * ends `available`, with exactly one file and no work done twice.
 */
import fs from 'node:fs';
import { client, GIB, poll, PollAbort, Suite, type CairnProcess } from './support';

// Short leases, so the sweeper (every lease/4 s, in the API) re-offers a dead worker's task quickly.
const LEASE = { CAIRN_TASK_LEASE_SECONDS: '2' };

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create(LEASE);
}, 60_000);

afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

/** Processes are per test: stop what the test left running so the next one starts from none. */
afterEach(async () => {
  await Promise.all(suite.procs.map((p) => p.kill('SIGKILL')));
});

const diag = () => suite.output();

async function tasksOf(volumeId: string): Promise<Array<{ kind: string; state: string; attempts: number; published_at: Date | null }>> {
  const { rows } = await suite.pool.query(
    'SELECT kind, state, attempts, published_at FROM tasks WHERE resource_id = $1 ORDER BY created_at',
    [volumeId],
  );
  return rows;
}

async function volumeStatus(volumeId: string): Promise<string | undefined> {
  const { rows } = await suite.pool.query('SELECT status FROM volumes WHERE id = $1', [volumeId]);
  return rows[0]?.status;
}

/** Files in the backend directory that belong to the volume. */
const filesOf = (volumeId: string) =>
  (fs.existsSync(suite.backendDir) ? fs.readdirSync(suite.backendDir) : []).filter((f) => f.includes(volumeId));

async function createVolume(name: string): Promise<string> {
  const res = await http.post('/volumes', { volume: { size: 1, name } });
  expect(res.status).toBe(202);
  expect(res.body.volume.status).toBe('creating');
  return res.body.volume.id;
}

function untilAvailable(id: string): Promise<unknown> {
  return poll(
    `volume ${id} available`,
    async () => {
      const status = (await http.get(`/volumes/${id}`)).body?.volume?.status;
      if (status === 'error') throw new PollAbort(`volume ${id} went to error instead of available`);
      return status === 'available';
    },
    { timeoutMs: 30_000, diag },
  );
}

test('a worker SIGKILLed after the driver created the file but before committing: a new worker finishes the create, one file, attempt 2', async () => {
  api = await suite.startApi();
  // Fault injection: after the driver's work, the worker waits 30 s before recording the outcome.
  const slow = await suite.startWorker({ env: { CAIRN_FAULT_DRIVER_DELAY_MS: '30000' } });
  const id = await createVolume('crash-worker');

  // The window the fault opens: task claimed, file fully there, outcome not committed.
  await poll(
    'the task claimed and the file created',
    async () => {
      const [t] = await tasksOf(id);
      return t?.state === 'running' && filesOf(id).length === 1 && fs.statSync(suite.volumeFile(id)).size === GIB;
    },
    { intervalMs: 10, diag },
  );
  await expect(slow.kill('SIGKILL')).resolves.toEqual({ code: null, signal: 'SIGKILL' });

  const mid = await http.get(`/volumes/${id}`);
  expect(mid.body.volume.status).toBe('creating');
  const [killed] = await tasksOf(id);
  // Still the dead worker's attempt: running until its lease runs out, then pending again (the sweeper).
  expect(killed).toMatchObject({ attempts: 1 });
  expect(['running', 'pending']).toContain(killed!.state);

  await suite.startWorker();
  await untilAvailable(id);

  expect(filesOf(id)).toEqual([`volume-${id}`]);
  expect(fs.statSync(suite.volumeFile(id)).size).toBe(GIB);
  expect((await tasksOf(id)).map(({ kind, state, attempts }) => ({ kind, state, attempts }))).toEqual([
    { kind: 'volume.create', state: 'done', attempts: 2 },
  ]);
});

test('an API SIGKILLed right after answering 202 loses nothing: the restarted API relays the outbox row and the volume becomes available', async () => {
  api = await suite.startApi();
  const port = api.port;
  // No worker yet: whatever the killed API managed to relay, nothing may have consumed it.
  const id = await createVolume('crash-api');
  await expect(api.kill('SIGKILL')).resolves.toEqual({ code: null, signal: 'SIGKILL' });

  expect(await volumeStatus(id)).toBe('creating');
  const [accepted] = await tasksOf(id);
  // published_at null: killed before or while relaying (the outbox row alone must carry it); set: relayed first.
  expect(accepted).toMatchObject({ kind: 'volume.create', state: 'pending', attempts: 0 });

  api = await suite.startApi({ port });
  await suite.startWorker();
  await untilAvailable(id);

  expect(filesOf(id)).toEqual([`volume-${id}`]);
  expect(fs.statSync(suite.volumeFile(id)).size).toBe(GIB);
  // A message relayed twice (killed after publish, before marking it sent) is claimed once.
  expect((await tasksOf(id)).map(({ kind, state, attempts }) => ({ kind, state, attempts }))).toEqual([
    { kind: 'volume.create', state: 'done', attempts: 1 },
  ]);
});
