import { connect as amqpConnect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { DEFAULT_AMQP_QUEUE_TYPE, type AmqpQueueType } from '../config';
import type { TaskHandler, TaskMessage, Transport, TransportHealth } from './transport';

/** The subset of pino's API used here, so a pino logger can be passed as is. */
export interface TransportLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const consoleLog: TransportLog = { warn: (obj, msg) => console.warn(msg, obj), error: (obj, msg) => console.error(msg, obj) };

/** Every exchange and queue name, derived from the prefix in one place. */
export function topologyNames(prefix: string) {
  return {
    tasks: `${prefix}.tasks`,
    dlx: `${prefix}.dlx`,
    dead: `${prefix}.dead`,
    queue: (backend: string) => `${prefix}.tasks.${backend}`,
  };
}

/**
 * A task queue's arguments. Dead letters go to the DLX either way. A quorum queue also dead-letters a message
 * whose handling keeps killing workers (x-delivery-limit, which classic queues refuse); with a classic one the task
 * row bounds that instead: a redelivery finds the task leased and does nothing, and the sweeper fails a task after
 * CAIRN_TASK_MAX_LAPSES lapses. Brokers without quorum queues (< 3.8) ignore x-queue-type.
 */
function taskQueueArguments(type: AmqpQueueType, dlx: string): Record<string, unknown> {
  if (type === 'quorum') return { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': dlx, 'x-delivery-limit': 5 };
  return { 'x-queue-type': 'classic', 'x-dead-letter-exchange': dlx };
}

/** The whole topology; assertions are idempotent, so re-running it per backend is harmless. */
async function declareTopology(ch: Channel, prefix: string, queueType: AmqpQueueType, backend?: string): Promise<void> {
  const n = topologyNames(prefix);
  await ch.assertExchange(n.tasks, 'direct', { durable: true });
  // Fanout: dead letters keep their backend routing key, and all land in one queue.
  await ch.assertExchange(n.dlx, 'fanout', { durable: true });
  await ch.assertQueue(n.dead, { durable: true });
  await ch.bindQueue(n.dead, n.dlx, '');
  if (backend === undefined) return;
  await ch.assertQueue(n.queue(backend), { durable: true, arguments: taskQueueArguments(queueType, n.dlx) });
  await ch.bindQueue(n.queue(backend), n.tasks, backend);
}

/** Runs declarations on a throwaway channel: a failed one closes only that channel. */
async function withChannel(conn: ChannelModel, fn: (ch: Channel) => Promise<void>): Promise<void> {
  const ch = await conn.createChannel();
  ch.on('error', () => {}); // the failing RPC already rejects with this error
  try {
    await fn(ch);
  } finally {
    await ch.close().catch(() => {});
  }
}

/** Ack/nack throw once the channel is closed; the broker then requeues the message itself. */
function quietly(op: () => void): void {
  try {
    op();
  } catch {
    /* channel gone */
  }
}

function parseTask(body: Buffer): TaskMessage {
  const v: unknown = JSON.parse(body.toString('utf8'));
  if (typeof v === 'object' && v !== null) {
    const { taskId, kind } = v as Record<string, unknown>;
    if (typeof taskId === 'string' && typeof kind === 'string') return { taskId, kind };
  }
  throw new Error('task message lacks a string taskId or kind');
}

export class AmqpTransport implements Transport {
  private readonly declared = new Map<string, Promise<void>>();
  private readonly channels: Channel[] = [];
  private readonly consumers: { ch: Channel; tag: string }[] = [];
  private readonly closeCallbacks: ((err?: Error) => void)[] = [];
  private closing: Promise<void> | undefined;
  private lastError: Error | undefined;
  /** Resolves when the connection is gone, so close() never waits on a dead socket. */
  private readonly gone: Promise<void>;

  private constructor(
    private readonly conn: ChannelModel,
    private readonly pub: ConfirmChannel,
    private readonly prefix: string,
    private readonly log: TransportLog,
    private readonly queueType: AmqpQueueType,
  ) {
    this.gone = new Promise((resolve) => conn.once('close', () => resolve()));
    this.watch(conn, 'connection');
    this.watch(pub, 'publish channel');
  }

  static async connect(
    url: string,
    prefix: string,
    log: TransportLog = consoleLog,
    queueType: AmqpQueueType = DEFAULT_AMQP_QUEUE_TYPE,
  ): Promise<AmqpTransport> {
    const conn = await amqpConnect(url, { clientProperties: { connection_name: `cairn ${prefix}` } });
    conn.on('error', () => {}); // until watch() attaches; an unheard 'error' would crash the process
    try {
      return new AmqpTransport(conn, await conn.createConfirmChannel(), prefix, log, queueType);
    } catch (err) {
      await conn.close().catch(() => {});
      throw err;
    }
  }

  /** `cb` runs once if the connection or a channel is lost other than through close(). */
  onClose(cb: (err?: Error) => void): void {
    this.closeCallbacks.push(cb);
  }

  async publish(backend: string, messages: readonly TaskMessage[]): Promise<void> {
    if (this.closing) throw new Error('AMQP transport is closed');
    if (messages.length === 0) return;
    await this.ensureBackend(backend);
    const exchange = topologyNames(this.prefix).tasks;
    for (const { taskId, kind } of messages) {
      // A false return only means the socket buffer is full; relay batches are small, so no 'drain' wait.
      const body = Buffer.from(JSON.stringify({ taskId, kind }));
      this.pub.publish(exchange, backend, body, { persistent: true, contentType: 'application/json', messageId: taskId });
    }
    // Rejects on any nack, or if the channel closes with messages unconfirmed.
    await this.pub.waitForConfirms();
  }

  async consume(backend: string, handler: TaskHandler, prefetch: number): Promise<void> {
    if (this.closing) throw new Error('AMQP transport is closed');
    // 0 would mean "unlimited" to the broker, the opposite of what a caller means.
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be a positive integer, got ${prefetch}`);
    await this.ensureBackend(backend);
    const ch = await this.conn.createChannel();
    this.channels.push(ch);
    this.watch(ch, `consumer channel ${backend}`);
    await ch.prefetch(prefetch);
    const { consumerTag } = await ch.consume(topologyNames(this.prefix).queue(backend), (msg) => {
      // null: the broker cancelled us (queue deleted); a worker that silently stops is worse than one that exits.
      if (msg === null) this.lose(new Error(`consumer for ${backend} cancelled by broker`));
      else void this.deliver(ch, msg, handler);
    });
    this.consumers.push({ ch, tag: consumerTag });
  }

  health(): TransportHealth {
    if (this.closing) return { state: 'down', details: `AMQP connection closed${this.lastError ? `: ${this.lastError.message}` : ''}` };
    return { state: 'ok', details: `AMQP connected, ${this.consumers.length} consumer(s)` };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Each step races the connection's end: amqplib never settles a close the socket cut short.
    const step = (op: () => Promise<unknown>) =>
      Promise.race([
        Promise.resolve()
          .then(op)
          .catch(() => {}),
        this.gone,
      ]);
    for (const { ch, tag } of this.consumers) await step(() => ch.cancel(tag));
    for (const ch of [...this.channels, this.pub]) await step(() => ch.close());
    await step(() => this.conn.close());
  }

  private ensureBackend(backend: string): Promise<void> {
    let p = this.declared.get(backend);
    if (!p) {
      p = this.declare(backend);
      // Forget failures so a later call retries instead of replaying the rejection.
      p.catch(() => this.declared.delete(backend));
      this.declared.set(backend, p);
    }
    return p;
  }

  private async declare(backend: string): Promise<void> {
    try {
      await withChannel(this.conn, (ch) => declareTopology(ch, this.prefix, this.queueType, backend));
    } catch (err) {
      // 406: the queue exists with other arguments. RabbitMQ cannot change a queue's type, so one declared before
      // (by an older cairn, or under another CAIRN_AMQP_QUEUE_TYPE) is used as it is.
      if ((err as { code?: unknown }).code !== 406) throw err;
      const n = topologyNames(this.prefix);
      this.log.warn(
        { queue: n.queue(backend), queueType: this.queueType },
        'the task queue exists with other arguments (another queue type); using it as it is',
      );
      await withChannel(this.conn, async (ch) => {
        await ch.checkQueue(n.queue(backend));
        await ch.bindQueue(n.queue(backend), n.tasks, backend);
      });
    }
  }

  private async deliver(ch: Channel, msg: ConsumeMessage, handler: TaskHandler): Promise<void> {
    let task: TaskMessage | undefined;
    try {
      task = parseTask(msg.content);
      await handler(task);
      quietly(() => ch.ack(msg));
    } catch (err) {
      // Dead-letter, never requeue: an instant retry would likely fail alike; the sweeper re-offers the task later.
      const what = task ? 'task handler failed' : 'malformed task message';
      this.log.warn({ err, taskId: task?.taskId, messageId: msg.properties.messageId }, `${what}; message dead-lettered`);
      quietly(() => ch.nack(msg, false, false));
    }
  }

  private watch(emitter: ChannelModel | Channel, what: string): void {
    emitter.on('error', (err: Error) => {
      this.lastError = err;
      this.log.error({ err }, `AMQP ${what} error`);
    });
    emitter.on('close', () => {
      if (!this.closing) this.lose(this.lastError ?? new Error(`AMQP ${what} closed`));
    });
  }

  /** Any lost connection, channel or consumer ends the transport; the caller decides what next. */
  private lose(err: Error): void {
    if (this.closing) return;
    this.log.error({ err }, 'AMQP transport lost; closing');
    void this.close();
    for (const cb of this.closeCallbacks.splice(0)) cb(err);
  }
}

/** Drops everything a prefix created; for tests, which each use a fresh prefix. */
export async function deleteTopology(url: string, prefix: string, backends: string[]): Promise<void> {
  const n = topologyNames(prefix);
  const conn = await amqpConnect(url);
  conn.on('error', () => {});
  try {
    await withChannel(conn, async (ch) => {
      for (const b of backends) await ch.deleteQueue(n.queue(b));
      await ch.deleteQueue(n.dead);
      await ch.deleteExchange(n.tasks);
      await ch.deleteExchange(n.dlx);
    });
  } finally {
    await conn.close().catch(() => {});
  }
}
