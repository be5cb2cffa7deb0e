import type { AmqpQueueType } from '../config';
import { AmqpTransport, type TransportLog } from './amqpTransport';
import type { TaskHandler, TaskMessage, Transport, TransportHealth } from './transport';

export interface ReconnectOptions {
  /** First delay after a failed or lost connection; doubles per failure up to `maxDelayMs` (with jitter). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Called after every (re)connection: the relay publishes what waited in the outbox meanwhile. */
  readonly onConnected?: () => void;
  /** The type of the task queues it declares (`CAIRN_AMQP_QUEUE_TYPE`; the transport's default if absent). */
  readonly queueType?: AmqpQueueType;
}

/**
 * An AMQP transport that outlives its broker. It connects in the
 * background, so a process starts without the broker; a lost connection
 * is re-made with backoff, and the consumers are started again on the new
 * one. While there is no connection, `publish` rejects at once: the relay
 * keeps the rows in the outbox (unpublished) and retries, so the API
 * accepts writes through an outage and they are relayed when the broker
 * returns. Deliveries in flight when the connection went are redelivered
 * by the broker; the task row's lease and attempt token make that harmless.
 */
export class ReconnectingAmqpTransport implements Transport {
  private current: AmqpTransport | undefined;
  private readonly consumers: Array<{ backend: string; handler: TaskHandler; prefetch: number }> = [];
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private lostAt: Date | undefined = new Date();

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly log: TransportLog & { info?(obj: object, msg: string): void },
    private readonly opts: ReconnectOptions = {},
  ) {}

  /** Whether a broker connection is up now (health reporting). */
  get connected(): boolean {
    return this.current !== undefined;
  }

  /** Since when the broker has been unreachable (undefined while connected). */
  get unreachableSince(): Date | undefined {
    return this.lostAt;
  }

  /** For `/healthcheck`: degraded (still answering, 200) while the broker is away; accepted work waits in the outbox. */
  health(): TransportHealth {
    if (this.current) return this.current.health();
    return {
      state: 'degraded',
      details: `the AMQP broker is unreachable since ${this.lostAt?.toISOString() ?? 'start'}; accepted work waits in the outbox`,
    };
  }

  /** Makes the first attempt and resolves after it, connected or not; later attempts run in the background. */
  start(): Promise<void> {
    return this.tryConnect();
  }

  async publish(backend: string, messages: readonly TaskMessage[]): Promise<void> {
    const t = this.current;
    if (!t) throw new Error('the AMQP broker is unreachable; the tasks wait in the outbox');
    await t.publish(backend, messages);
  }

  async consume(backend: string, handler: TaskHandler, prefetch: number): Promise<void> {
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be a positive integer, got ${prefetch}`);
    this.consumers.push({ backend, handler, prefetch });
    const t = this.current;
    if (t) {
      await t.consume(backend, handler, prefetch).catch((err) => {
        this.log.warn({ err, backend }, 'AMQP consume failed; it starts again with the next connection');
        void t.close();
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.connecting?.catch(() => undefined);
    const t = this.current;
    this.current = undefined;
    await t?.close();
  }

  private tryConnect(): Promise<void> {
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectOnce(): Promise<void> {
    if (this.closed || this.current) return;
    let t: AmqpTransport | undefined;
    try {
      t = await AmqpTransport.connect(this.url, this.prefix, this.log, this.opts.queueType);
      const mine = t;
      mine.onClose((err) => this.lost(mine, err));
      for (const c of this.consumers) await mine.consume(c.backend, c.handler, c.prefetch);
      if (this.closed) {
        await mine.close();
        return;
      }
      this.current = mine;
      this.failures = 0;
      const since = this.lostAt;
      this.lostAt = undefined;
      this.log.info?.({ unreachableSince: since }, 'AMQP broker connected');
      this.opts.onConnected?.();
    } catch (err) {
      await t?.close().catch(() => undefined);
      this.failures++;
      this.log.warn({ err, failures: this.failures }, 'AMQP broker unreachable; retrying with backoff');
      this.schedule();
    }
  }

  private lost(t: AmqpTransport, err?: Error): void {
    if (this.current !== t) return; // a connection that never became current: connectOnce handles it
    this.current = undefined;
    this.lostAt = new Date();
    if (this.closed) return;
    this.log.error({ err }, 'lost the AMQP connection; reconnecting with backoff');
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const min = this.opts.minDelayMs ?? 500;
    const max = this.opts.maxDelayMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 16)) * (0.75 + Math.random() * 0.5);
    // Not unref'd: a worker waiting for its broker has nothing else keeping it alive.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tryConnect();
    }, delay);
  }
}
