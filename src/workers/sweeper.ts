import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import * as tasksDb from '../db/tasks';
import type { TaskNotifier } from '../services/deps';
import { failTask } from './taskRunner';
import type { Metrics } from '../metrics';

export interface SweeperOptions {
  readonly intervalMs: number;
  /** A published task nobody claimed for this long is published again (lost message). */
  readonly republishAfterMs: number;
  /** A task no worker took for this long fails: its backend has no live worker. */
  readonly unclaimedTimeoutMs: number;
  /** Counts lease expiries and the tasks it fails (`cairn_task_lease_expiries_total`, `cairn_tasks_total`). */
  readonly metrics?: Metrics;
  /** A task whose lease ran out this many times fails (a task that kills every worker taking it). */
  readonly maxLapses?: number;
}

/**
 * Hands tasks whose lease ran out (dead or hung worker) back to the relay,
 * or fails them for good after their last attempt, so nothing stays in a
 * transitional status forever.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly notifier: TaskNotifier,
    private readonly log: Logger,
    private readonly opts: SweeperOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.sweep().then(
        () => undefined,
        (err) => this.log.error({ err }, 'sweep failed'),
      );
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One pass; returns how many tasks it re-offered or failed. */
  async sweep(): Promise<number> {
    const n = await this.db.transaction(async (trx) => {
      const expired = await tasksDb.lockExpired(trx, 100);
      for (const t of expired) {
        this.opts.metrics?.leaseExpiries.inc({ kind: t.kind });
        // A lapse is not the task's failure (a paused worker, a database or network outage): it does not
        // spend an attempt. Only a task that keeps losing its workers fails, after maxLapses of them.
        if ((t.lapses ?? 0) + 1 >= (this.opts.maxLapses ?? 20)) {
          this.log.warn({ task: t.id, kind: t.kind }, 'task lease expired once too often; failing it');
          await failTask(trx, t, `the worker did not finish the task in ${t.attempts} attempts`);
          this.opts.metrics?.tasks.inc({ kind: t.kind, outcome: 'failed' });
        } else {
          this.log.info({ task: t.id, kind: t.kind, owner: t.lease_owner }, 'task lease expired; offering it again');
          await tasksDb.requeueExpired(trx, t);
        }
      }
      const unclaimed = await tasksDb.lockUnclaimed(trx, new Date(Date.now() - this.opts.unclaimedTimeoutMs), 100);
      for (const t of unclaimed) {
        this.log.warn({ task: t.id, kind: t.kind, backend: t.backend }, 'no worker took the task in time; failing it');
        await failTask(trx, t, `no worker of backend ${t.backend} took the task in ${Math.round(this.opts.unclaimedTimeoutMs / 1000)} s`);
        this.opts.metrics?.tasks.inc({ kind: t.kind, outcome: 'unclaimed' });
      }
      const stale = await tasksDb.republishStale(trx, new Date(Date.now() - this.opts.republishAfterMs));
      return expired.length + unclaimed.length + stale;
    });
    if (n > 0) this.notifier.tasksWritten();
    return n;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }
}
