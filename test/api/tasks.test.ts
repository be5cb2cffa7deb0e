import { randomUUID } from 'node:crypto';
import request from 'supertest';
import * as tasksDb from '../../src/db/tasks';
import pino from 'pino';
import { volumeCreatedQuery } from '../../src/services/tasks/outcomes';
import { Relay } from '../../src/workers/relay';
import type { Transport } from '../../src/workers/transport';
import { PROJECT, TOKEN, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { insertTask } from '../helpers/tasks';

const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };

describe('task leases', () => {
  let cairn: TestCairn;
  // A 1 s lease and a driver that takes 3 s: only renewal keeps the sweeper from re-offering the task.
  beforeAll(async () => {
    cairn = await startTestCairn({ CAIRN_TASK_LEASE_SECONDS: '1', CAIRN_FAULT_DRIVER_DELAY_MS: '3000' });
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it('a driver operation longer than the lease keeps its lease and runs once', async () => {
    const res = await request(cairn.url)
      .post(`/v3/${PROJECT}/volumes`)
      .set(MV)
      .send({ volume: { size: 1 } });
    const id = res.body.volume.id;
    await waitFor(
      async () => (await request(cairn.url).get(`/v3/${PROJECT}/volumes/${id}`).set(MV)).body.volume.status === 'available',
      15_000,
      'available',
    );
    const [task] = await cairn.db('tasks').where({ resource_id: id });
    expect(task).toMatchObject({ state: 'done', attempts: 1 });
  });
});

const aTask = (cairn: TestCairn, o?: Parameters<typeof insertTask>[1]) => insertTask(cairn.db, o);

describe('task fencing (attempt tokens)', () => {
  let cairn: TestCairn;
  beforeAll(async () => {
    cairn = await startTestCairn();
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it("a task that ends (done, or failed while pending) releases its key's waiting tasks, and only those", async () => {
    const volume = randomUUID();
    const [first, second, third] = [
      await aTask(cairn, { resourceId: volume }),
      await aTask(cairn, { resourceId: volume }),
      await aTask(cairn, { resourceId: volume }),
    ];
    const other = await aTask(cairn);
    const before = async (id: string) => (await tasksDb.find(cairn.db, id))!.available_at.getTime();
    const held = (await tasksDb.claim(cairn.db, first, 'host:1', 60))!;
    expect(await tasksDb.claim(cairn.db, second, 'host:1', 60)).toBeUndefined(); // waits behind the first
    await new Promise((r) => setTimeout(r, 5));
    const otherAt = await before(other);
    const t0 = Date.now();
    expect(await tasksDb.complete(cairn.db, held)).toBe(true);
    // Released: available from the completion on (the relay may publish it again at any moment).
    expect(await before(second)).toBeGreaterThanOrEqual(t0);
    expect(await before(third)).toBeGreaterThanOrEqual(t0);
    expect(await before(other)).toBe(otherAt);
    expect(await tasksDb.find(cairn.db, first)).toMatchObject({ state: 'done' });

    // A pending task failed (its own row is still pending in the statement's snapshot): it ends failed, the next one is released.
    await new Promise((r) => setTimeout(r, 5));
    const t1 = Date.now();
    expect(await tasksDb.fail(cairn.db, { id: second, attempt_token: null }, 'refused')).toBe(true);
    expect(await tasksDb.find(cairn.db, second)).toMatchObject({ state: 'failed', last_error: 'refused' });
    expect(await before(third)).toBeGreaterThanOrEqual(t1);
    expect(await tasksDb.claim(cairn.db, third, 'host:1', 60)).toMatchObject({ state: 'running' });
  });

  it('a lapsed attempt can neither renew, complete, retry, fail nor pass the fence once the task was offered again', async () => {
    const id = await aTask(cairn);
    const first = (await tasksDb.claim(cairn.db, id, 'host:1', 0.001))!;
    expect(first.attempt_token).toEqual(expect.any(String));
    await new Promise((r) => setTimeout(r, 10));
    // The sweeper's take-back: the token goes, a lapse is counted, no attempt spent.
    await tasksDb.requeueExpired(cairn.db, first);
    const second = (await tasksDb.claim(cairn.db, id, 'host:1', 60))!; // the same owner: only the token tells them apart
    expect(second.attempt_token).not.toBe(first.attempt_token);
    expect(second).toMatchObject({ attempts: 2, lapses: 1 });
    expect(tasksDb.spentAttempts(second)).toBe(1);

    expect(await tasksDb.renewLease(cairn.db, first, 60)).toBe(false);
    expect(await cairn.db.transaction((trx) => tasksDb.lockHeld(trx, first))).toBe(false);
    expect(await tasksDb.complete(cairn.db, first)).toBe(false);
    expect(await tasksDb.retryLater(cairn.db, first, 0, 'stale')).toBe(false);
    expect(await tasksDb.fail(cairn.db, first, 'stale')).toBe(false);

    expect(await tasksDb.renewLease(cairn.db, second, 60)).toBe(true);
    expect(await cairn.db.transaction((trx) => tasksDb.lockHeld(trx, second))).toBe(true);
    expect(await tasksDb.complete(cairn.db, second)).toBe(true);
    // Done stays done: the stale attempt cannot turn it into failed.
    expect(await tasksDb.fail(cairn.db, first, 'stale')).toBe(false);
    expect(await tasksDb.fail(cairn.db, second, 'late')).toBe(false);
    expect(await tasksDb.find(cairn.db, id)).toMatchObject({ state: 'done', last_error: 'lease expired' });
  });
});

describe('with the relay stopped: its own tests, and a worker played by hand', () => {
  let cairn: TestCairn;
  beforeAll(async () => {
    cairn = await startTestCairn();
    await cairn.relay!.stop(); // only the relays of these tests publish; a create's task stays pending
  });
  afterAll(async () => {
    await cairn.stop();
  });

  /** A broker that refuses the first `failures` publishes, then takes every message. */
  function flakyTransport(failures: number): Transport & { attempts: number; sent: string[] } {
    return {
      attempts: 0,
      sent: [],
      async publish(_backend, messages) {
        this.attempts++;
        if (this.attempts <= failures) throw new Error('broker unreachable');
        this.sent.push(...messages.map((m) => m.taskId));
      },
      async consume() {},
      async close() {},
    };
  }

  it('a publish the broker refuses leaves the task unpublished, and a later poll sends it', async () => {
    const id = await aTask(cairn, { backend: 'flaky' });
    const transport = flakyTransport(1);
    const relay = new Relay(cairn.db, transport, pino({ level: 'silent' }), 50);
    relay.tasksWritten();
    await waitFor(async () => transport.attempts >= 1, 5_000, 'a first publish');
    // The mark was rolled back with the failed publish: the outbox still says unsent.
    await waitFor(async () => (await tasksDb.find(cairn.db, id))?.published_at === null, 5_000, 'the mark taken back');
    relay.start();
    await waitFor(async () => transport.sent.includes(id), 5_000, 'the task sent by a later poll');
    await relay.stop();
    expect(transport.attempts).toBeGreaterThanOrEqual(2);
    expect((await tasksDb.find(cairn.db, id))?.published_at).not.toBeNull();
  });

  it("a task's completion writes its outcome in the same statement, only for the attempt that holds the task", async () => {
    const res = await request(cairn.url)
      .post(`/v3/${PROJECT}/volumes`)
      .set(MV)
      .send({ volume: { size: 1 } });
    expect(res.status).toBe(202);
    const volumeId: string = res.body.volume.id;
    const [{ id }] = await cairn.db('tasks').where({ resource_id: volumeId }).select('id');
    const first = (await tasksDb.claim(cairn.db, id, 'host:1', 60))!;
    await tasksDb.requeueExpired(cairn.db, first);
    const second = (await tasksDb.claim(cairn.db, id, 'host:2', 60))!;

    const created = (loc: string) => volumeCreatedQuery(cairn.db, volumeId, loc);
    expect(await tasksDb.complete(cairn.db, first, created('stale'))).toBe(false);
    expect(await cairn.db('volumes').where({ id: volumeId }).first()).toMatchObject({ status: 'creating', provider_location: null });

    expect(await tasksDb.complete(cairn.db, second, created('file:held'))).toBe(true);
    expect(await cairn.db('volumes').where({ id: volumeId }).first()).toMatchObject({
      status: 'available',
      provider_location: 'file:held',
    });
    expect(await tasksDb.find(cairn.db, id)).toMatchObject({ state: 'done' });
  });
});
