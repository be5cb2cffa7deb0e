import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { DriverError } from '../domain/errors';
import type { Db } from '../db/connection';
import * as tasksDb from '../db/tasks';
import type { DbTaskRow } from '../db/tasks';
import { failureDetail, taskFailed } from '../services/taskOutcomes';
import type { MessageDetail } from '../services/messages';
import { settleGroupTask } from '../services/groupOutcomes';
import type { Driver } from './drivers/driver';
import { handlers } from './handlers';
import { withTaskVolume } from './taskVolume';
import type { TaskMessage } from './transport';
import type { WorkerEnv } from './workerEnv';
import type { Metrics } from '../metrics';

export interface TaskRunnerOptions {
  readonly owner: string;
  readonly leaseSeconds: number;
  /** First retry delay; doubles per attempt, capped at a minute. */
  readonly baseBackoffMs?: number;
  /** Handed to every handler (the image service, for volumes from images and uploads). */
  readonly env?: WorkerEnv;
  /** Counts tasks by kind and outcome, and times them (`cairn_tasks_total`, `cairn_task_duration_seconds`). */
  readonly metrics?: Metrics;
}

/**
 * Runs delivered tasks for one backend: claim with a lease, run the
 * driver, then commit outcome + completion in one transaction. Duplicate
 * or stale deliveries find nothing to claim and return.
 */
export class TaskRunner {
  constructor(
    private readonly db: Db,
    private readonly driver: Driver,
    private readonly opts: TaskRunnerOptions,
    private readonly log: Logger,
  ) {}

  readonly handle = async (msg: TaskMessage): Promise<void> => {
    const task = await tasksDb.claim(this.db, msg.taskId, this.opts.owner, this.opts.leaseSeconds);
    if (!task) return;
    const started = performance.now();
    const spec = handlers[task.kind];
    if (!spec) {
      await this.db.transaction((trx) => failTask(trx, task, `no handler for task kind ${task.kind}`));
      return;
    }
    let result: unknown;
    const renewal = this.keepLease(task.id);
    try {
      result = await spec.run(task, withTaskVolume(this.driver, task.payload), this.opts.env ?? {});
    } catch (err) {
      const outcome = await this.failed(task, err);
      this.count(task.kind, outcome, started);
      return;
    } finally {
      clearInterval(renewal);
    }
    const completed = await this.db.transaction(async (trx) => {
      // Lost the lease meanwhile (we were too slow): the new holder redoes the idempotent work.
      if (!await tasksDb.complete(trx, task.id, this.opts.owner)) return false;
      await spec.commit(trx, task, result);
      await settleGroupTask(trx, task, false); // a group member's outcome may settle its group (snapshot)
      return true;
    });
    this.count(task.kind, completed ? 'done' : 'lease_lost', started);
    this.log.debug({ task: task.id, kind: task.kind }, 'task done');
  };

  /** A long driver operation keeps its lease while it is alive; a dead worker's lease runs out. */
  private keepLease(taskId: string): NodeJS.Timeout {
    const t = setInterval(() => {
      tasksDb.renewLease(this.db, taskId, this.opts.owner, this.opts.leaseSeconds)
        .catch((err) => this.log.warn({ err, task: taskId }, 'lease renewal failed'));
    }, Math.max(200, (this.opts.leaseSeconds * 1000) / 3));
    t.unref();
    return t;
  }

  private count(kind: string, outcome: string, started: number): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.tasks.inc({ kind, outcome });
    m.taskDuration.observe({ kind, outcome }, (performance.now() - started) / 1000);
    if (outcome === 'retry') m.taskRetries.inc({ kind });
  }

  private async failed(task: DbTaskRow, err: unknown): Promise<'retry' | 'failed'> {
    const transient = err instanceof DriverError ? err.transient : false;
    const reason = err instanceof Error ? err.message : String(err);
    const output = err instanceof DriverError && err.detail ? err.detail : undefined;
    this.log.warn({ task: task.id, kind: task.kind, attempt: task.attempts, transient, err: reason, ...(output ? { output } : {}) }, 'task failed');
    if (transient && task.attempts < task.max_attempts) {
      const delay = Math.min(60_000, (this.opts.baseBackoffMs ?? 500) * 2 ** (task.attempts - 1));
      await tasksDb.retryLater(this.db, task.id, this.opts.owner, delay, reason);
      return 'retry';
    }
    const detail = output ? `${reason}: ${output}` : reason;
    const userDetail = failureDetail(task.kind, err instanceof DriverError ? err.userDetail : undefined);
    await this.db.transaction((trx) => failTask(trx, task, detail, userDetail));
    return 'failed';
  }
}

export async function failTask(trx: Parameters<typeof taskFailed>[0], task: DbTaskRow, reason: string, userDetail?: MessageDetail): Promise<void> {
  await tasksDb.fail(trx, task.id, reason);
  await taskFailed(trx, task, reason, userDetail ?? failureDetail(task.kind, undefined));
  await settleGroupTask(trx, task, true);
}
