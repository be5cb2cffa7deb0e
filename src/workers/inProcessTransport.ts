import type { TaskHandler, TaskMessage, Transport } from './transport';

/**
 * The all-in-one transport: a queue per backend in this process. Messages
 * for a backend nobody consumes are dropped; the sweeper re-publishes
 * tasks that nobody claimed, as it would after a lost AMQP message.
 */
export class InProcessTransport implements Transport {
  private readonly consumers = new Map<string, { handler: TaskHandler; prefetch: number; inFlight: number; queue: TaskMessage[] }>();
  private readonly pending = new Set<Promise<void>>();

  async publish(backend: string, messages: readonly TaskMessage[]): Promise<void> {
    const c = this.consumers.get(backend);
    if (!c) return;
    c.queue.push(...messages);
    this.pump(backend);
  }

  async consume(backend: string, handler: TaskHandler, prefetch: number): Promise<void> {
    this.consumers.set(backend, { handler, prefetch, inFlight: 0, queue: [] });
  }

  private pump(backend: string): void {
    const c = this.consumers.get(backend);
    if (!c) return;
    while (c.inFlight < c.prefetch && c.queue.length > 0) {
      const msg = c.queue.shift()!;
      c.inFlight++;
      // Errors are the runner's to log; like an AMQP nack without requeue, the sweeper takes over.
      const p = c
        .handler(msg)
        .catch(() => undefined)
        .finally(() => {
          c.inFlight--;
          this.pending.delete(p);
          this.pump(backend);
        });
      this.pending.add(p);
    }
  }

  async close(): Promise<void> {
    for (const c of this.consumers.values()) c.queue.length = 0;
    this.consumers.clear();
    await Promise.all([...this.pending]);
  }
}
