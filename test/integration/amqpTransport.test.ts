import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { AmqpTransport, deleteTopology, topologyNames } from '../../src/workers/amqpTransport';
import type { TransportLog } from '../../src/workers/amqpTransport';
import type { TaskMessage } from '../../src/workers/transport';

const URL = process.env.CAIRN_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = `cairn-test-${randomUUID().slice(0, 8)}`;
const names = topologyNames(prefix);
const backends = ['roundtrip', 'reject', 'malformed', 'slow', 'prefetch', 'cancelled', 'typed-classic', 'typed-quorum', 'existing-quorum'];

const logs: { msg: string; obj: object }[] = [];
const log: TransportLog = { warn: (obj, msg) => logs.push({ msg, obj }), error: (obj, msg) => logs.push({ msg, obj }) };

const transports: AmqpTransport[] = [];
async function open(queueType?: 'classic' | 'quorum'): Promise<AmqpTransport> {
  const t = await AmqpTransport.connect(URL, prefix, log, queueType);
  transports.push(t);
  return t;
}

/** Polls `cond` until true; the only waiting the tests do. */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tasks = (n: number, tag: string): TaskMessage[] =>
  Array.from({ length: n }, (_, i) => ({ taskId: `${tag}-${i}-${randomUUID()}`, kind: 'create_volume' }));

let admin: ChannelModel;
let adminCh: Channel;
let publisher: AmqpTransport;
const dead: GetMessage[] = [];

/** Drains the dead-letter queue into `dead` until a message with `messageId` shows up. */
async function awaitDead(messageId: string): Promise<GetMessage> {
  await waitFor(`dead letter ${messageId}`, async () => {
    for (let m = await adminCh.get(names.dead, { noAck: true }); m; m = await adminCh.get(names.dead, { noAck: true })) dead.push(m);
    return dead.some((m) => m.properties.messageId === messageId);
  });
  return dead.find((m) => m.properties.messageId === messageId)!;
}

beforeAll(async () => {
  admin = await connect(URL);
  adminCh = await admin.createChannel();
  publisher = await open();
});

afterAll(async () => {
  for (const t of transports) await t.close();
  await deleteTopology(URL, prefix, backends);
  await admin.close();
});

test('publish then consume delivers every message exactly once', async () => {
  const consumer = await open();
  const seen: string[] = [];
  await consumer.consume('roundtrip', async (m) => void seen.push(m.taskId), 5);
  const batch = tasks(20, 'rt');
  await publisher.publish('roundtrip', batch);
  await waitFor('all 20 deliveries', () => seen.length >= 20);

  // A sentinel published after all acks: anything redelivered would arrive no later than it.
  const [sentinel] = tasks(1, 'sentinel');
  await publisher.publish('roundtrip', [sentinel]);
  await waitFor('sentinel', () => seen.includes(sentinel.taskId));
  expect(seen.filter((id) => id !== sentinel.taskId).sort()).toEqual(batch.map((m) => m.taskId).sort());
});

test('a rejecting handler dead-letters the message and is not called again', async () => {
  const consumer = await open();
  const [bad, good] = tasks(2, 'rej');
  const calls: string[] = [];
  await consumer.consume(
    'reject',
    async (m) => {
      calls.push(m.taskId);
      if (m.taskId === bad.taskId) throw new Error('volume driver exploded');
    },
    1,
  );
  await publisher.publish('reject', [bad]);

  const d = await awaitDead(bad.taskId);
  expect(JSON.parse(d.content.toString())).toEqual(bad);
  expect(d.properties).toMatchObject({ contentType: 'application/json', deliveryMode: 2, messageId: bad.taskId });
  expect(d.properties.headers?.['x-death']?.[0]).toMatchObject({ queue: names.queue('reject'), reason: 'rejected' });

  await publisher.publish('reject', [good]);
  await waitFor('the next message', () => calls.includes(good.taskId));
  expect(calls).toEqual([bad.taskId, good.taskId]);
  expect(logs.some((l) => l.msg.includes('dead-lettered') && JSON.stringify(l.obj).includes(bad.taskId))).toBe(true);
});

test('a malformed body is dead-lettered without reaching the handler', async () => {
  const consumer = await open();
  const calls: TaskMessage[] = [];
  await consumer.consume('malformed', async (m) => void calls.push(m), 1);
  const messageId = `malformed-${randomUUID()}`;
  adminCh.publish(names.tasks, 'malformed', Buffer.from('{"taskId": 42'), { messageId });
  await awaitDead(messageId);
  expect(calls).toEqual([]);
});

test('a message is acked only once the handler resolves', async () => {
  const first = await open();
  const started: string[] = [];
  const release: (() => void)[] = [];
  await first.consume(
    'slow',
    (m) => {
      started.push(m.taskId);
      return new Promise<void>((r) => release.push(r));
    },
    1,
  );
  const [task] = tasks(1, 'slow');
  await publisher.publish('slow', [task]);
  await waitFor('first consumer to start', () => started.length === 1);

  await first.close(); // handler still pending: the unacked message must go back to the queue
  const second = await open();
  const redelivered: string[] = [];
  await second.consume('slow', async (m) => void redelivered.push(m.taskId), 1);
  await waitFor('redelivery to the second consumer', () => redelivered.length === 1);
  expect(redelivered).toEqual([task.taskId]);

  release.forEach((r) => r()); // the late ack on a closed channel must be swallowed
  await new Promise((r) => setImmediate(r));
});

test('prefetch bounds the deliveries in flight', async () => {
  const consumer = await open();
  let inFlight = 0;
  let maxInFlight = 0;
  let done = 0;
  const release: (() => void)[] = [];
  await consumer.consume(
    'prefetch',
    async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise<void>((r) => release.push(r));
      inFlight--;
      done++;
    },
    2,
  );
  await publisher.publish('prefetch', tasks(6, 'pf'));

  // Deterministic, no sleep: two held by the handler while the broker keeps four ready.
  await waitFor(
    '2 in flight, 4 held back',
    async () => inFlight === 2 && (await adminCh.checkQueue(names.queue('prefetch'))).messageCount === 4,
  );
  while (done < 6) {
    await waitFor('a pending handler', () => release.length > 0 || done === 6);
    release.shift()?.();
  }
  expect(maxInFlight).toBe(2);
});

test('a broker-side consumer cancel closes the transport and fires onClose', async () => {
  const consumer = await open();
  const closed: (Error | undefined)[] = [];
  consumer.onClose((err) => closed.push(err));
  await consumer.consume('cancelled', async () => {}, 1);
  await adminCh.deleteQueue(names.queue('cancelled'));
  await waitFor('onClose', () => closed.length === 1);
  expect(closed[0]?.message).toMatch(/cancelled by broker/);
  await expect(consumer.publish('cancelled', tasks(1, 'x'))).rejects.toThrow(/closed/);
});

test('losing the connection fires onClose once and close() still resolves', async () => {
  const t = await open();
  const closed: (Error | undefined)[] = [];
  t.onClose((err) => closed.push(err));
  await t.consume('roundtrip', async () => {}, 1);
  // Simulates the broker vanishing: kill the socket under amqplib.
  (t as unknown as { conn: { connection: { stream: Socket } } }).conn.connection.stream.destroy(new Error('network down'));
  await waitFor('onClose', () => closed.length > 0);
  expect(closed).toHaveLength(1);
  expect(closed[0]?.message).toMatch(/network down/);
  await expect(t.close()).resolves.toBeUndefined();
  await expect(t.close()).resolves.toBeUndefined();
});

/** Whether a passive re-declaration with this type's arguments is accepted: RabbitMQ refuses (406) another type's. */
async function declaredAs(queue: string, type: 'classic' | 'quorum'): Promise<boolean> {
  const ch = await admin.createChannel();
  ch.on('error', () => {});
  const args = type === 'quorum' ? { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } : { 'x-queue-type': 'classic' };
  try {
    await ch.assertQueue(queue, { durable: true, arguments: { ...args, 'x-dead-letter-exchange': names.dlx } });
    await ch.close();
    return true;
  } catch (err) {
    if ((err as { code?: number }).code !== 406) throw err;
    return false;
  }
}

test('task queues are declared as the queue type asked for, classic by default', async () => {
  await publisher.publish('typed-classic', tasks(1, 'tc'));
  expect(await declaredAs(names.queue('typed-classic'), 'classic')).toBe(true);
  expect(await declaredAs(names.queue('typed-classic'), 'quorum')).toBe(false);

  const quorum = await open('quorum');
  await quorum.publish('typed-quorum', tasks(1, 'tq'));
  expect(await declaredAs(names.queue('typed-quorum'), 'quorum')).toBe(true);
  expect(await declaredAs(names.queue('typed-quorum'), 'classic')).toBe(false);
});

test('a task queue that exists with another type is used as it is, with a warning', async () => {
  // As an older cairn (quorum only) left it.
  await adminCh.assertExchange(names.tasks, 'direct', { durable: true });
  await adminCh.assertQueue(names.queue('existing-quorum'), {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': names.dlx, 'x-delivery-limit': 5 },
  });
  const t = await open('classic');
  const seen: string[] = [];
  await t.consume('existing-quorum', async (m) => void seen.push(m.taskId), 1);
  const [m] = tasks(1, 'eq');
  await t.publish('existing-quorum', [m]);
  await waitFor('the delivery', () => seen.includes(m.taskId));
  expect(logs.some((l) => /exists with other arguments/.test(l.msg))).toBe(true);
  expect(await declaredAs(names.queue('existing-quorum'), 'quorum')).toBe(true);
});
