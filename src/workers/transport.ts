/**
 * How task ids travel from the relay to the workers of a backend. The
 * database row is the truth; a message only says "task X is due", so a
 * lost or duplicated message costs a delay, never an operation.
 */
export interface TaskMessage {
  readonly taskId: string;
  readonly kind: string;
}

/**
 * Handles one delivery. Resolves when the outcome is committed; the
 * transport acknowledges only then. A rejection means "not handled": the
 * transport must not redeliver at once (the sweeper re-offers the task
 * after its lease), so AMQP transports ack or dead-letter, never requeue.
 */
export type TaskHandler = (msg: TaskMessage) => Promise<void>;

export interface Transport {
  /** Publishes and resolves once the broker has confirmed every message. */
  publish(backend: string, messages: readonly TaskMessage[]): Promise<void>;
  /** Starts delivering a backend's tasks to `handler`, at most `prefetch` at a time. */
  consume(backend: string, handler: TaskHandler, prefetch: number): Promise<void>;
  close(): Promise<void>;
  /**
   * How the transport is doing, for `/healthcheck` (src/health): `ok`, `degraded` (still usable, e.g.
   * reconnecting or publishing through a fallback) or `down`. Absent: ok while the process runs.
   */
  health?(): TransportHealth | Promise<TransportHealth>;
}

export interface TransportHealth {
  readonly state: 'ok' | 'degraded' | 'down';
  readonly details?: string;
}
