import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import * as tasksDb from '../db/tasks';
import type { TaskNotifier } from '../services/deps';
import type { TaskMessage, Transport } from './transport';

const BATCH = 200;

/**
 * Publishes committed, unpublished task rows (the outbox) and marks them
 * sent in the same transaction that locked them. A crash after publish but
 * before commit re-publishes: harmless, as workers claim by lease.
 * Kicked after each commit that wrote tasks, and polled for retries.
 */
export class Relay implements TaskNotifier {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();
  private lastComplaint = 0;

  constructor(
    private readonly db: Db,
    private readonly transport: Transport,
    private readonly log: Logger,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tasksWritten(), this.pollMs);
    this.timer.unref();
    this.tasksWritten();
  }

  tasksWritten(): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    this.running = true;
    this.idle = this.drain().finally(() => { this.running = false; });
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped && await this.publishBatch() === BATCH) { /* more due */ }
      } catch (err) {
        // Once per minute at most: during a broker or database outage this fails every poll.
        const now = Date.now();
        if (now - this.lastComplaint > 60_000) {
          this.lastComplaint = now;
          this.log.warn({ err }, 'relay: publishing failed; the tasks stay in the outbox and are retried');
        }
        return;
      }
    } while (this.again && !this.stopped);
  }

  /**
   * The broker's confirm of a persistent message waits for its disk (several ms), and a worker's
   * claim of a delivered task waits for this transaction's row lock: so the batch is sent and marked
   * in the transaction, and the confirms are awaited after its commit. A publish refused at once
   * (no broker) rolls the batch back as before; one nacked after the commit is unmarked, and one
   * lost to a crash in between is the sweeper's (`republishStale`), as a lost message is.
   */
  private async publishBatch(): Promise<number> {
    const confirms: Array<Promise<unknown>> = [];
    const count = await this.db.transaction(async (trx) => {
      const due = await tasksDb.lockDueUnpublished(trx, BATCH);
      const byBackend = new Map<string, TaskMessage[]>();
      for (const t of due) {
        const list = byBackend.get(t.backend) ?? [];
        list.push({ taskId: t.id, kind: t.kind });
        byBackend.set(t.backend, list);
      }
      let refused: unknown;
      for (const [backend, msgs] of byBackend) {
        const ids = msgs.map((m) => m.taskId);
        confirms.push(this.transport.publish(backend, msgs).catch((err: unknown) => { refused ??= err; return ids; }));
      }
      await tasksDb.markPublished(trx, due.map((t) => t.id));
      if (refused !== undefined) throw refused;
      return due.length;
    });
    const nacked = (await Promise.all(confirms)).filter((r): r is string[] => Array.isArray(r)).flat();
    if (nacked.length > 0) {
      await tasksDb.unmarkPublished(this.db, nacked);
      throw new Error(`the broker did not confirm ${nacked.length} task message(s)`);
    }
    return count;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle;
  }
}
