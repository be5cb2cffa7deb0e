import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import * as tasksDb from '../db/tasks';
import type { TaskNotifier } from '../services/deps';
import type { TaskMessage, Transport } from './transport';

const BATCH = 200;

/**
 * Publishes committed, unpublished task rows (the outbox), marked sent
 * by the statement that locks them, in a transaction that commits after
 * the broker confirmed (a failed publish rolls the mark back). A crash after publish but
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
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = this.drain().finally(() => {
      this.running = false;
    });
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped && (await this.publishBatch()) === BATCH) {
          /* more due */
        }
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

  private async publishBatch(): Promise<number> {
    return this.db.transaction(async (trx) => {
      const due = await tasksDb.takeDueUnpublished(trx, BATCH);
      const byBackend = new Map<string, TaskMessage[]>();
      for (const t of due) {
        const list = byBackend.get(t.backend) ?? [];
        list.push({ taskId: t.id, kind: t.kind });
        byBackend.set(t.backend, list);
      }
      for (const [backend, msgs] of byBackend) await this.transport.publish(backend, msgs);
      return due.length;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle;
  }
}
