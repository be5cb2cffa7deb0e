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

export interface TaskRunnerOptions {
  readonly owner: string;
  readonly leaseSeconds: number;
  /** First retry delay; doubles per attempt, capped at a minute. */
  readonly baseBackoffMs?: number;
  /** Handed to every handler (the image service, for volumes from images and uploads). */
  readonly env?: WorkerEnv;
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
      await this.failed(task, err);
      return;
    } finally {
      clearInterval(renewal);
    }
    await this.db.transaction(async (trx) => {
      // Lost the lease meanwhile (we were too slow): the new holder redoes the idempotent work.
      if (!await tasksDb.complete(trx, task.id, this.opts.owner)) return;
      await spec.commit(trx, task, result);
      await settleGroupTask(trx, task, false); // a group member's outcome may settle its group (snapshot)
    });
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

  private async failed(task: DbTaskRow, err: unknown): Promise<void> {
    const transient = err instanceof DriverError ? err.transient : false;
    const reason = err instanceof Error ? err.message : String(err);
    const output = err instanceof DriverError && err.detail ? err.detail : undefined;
    this.log.warn({ task: task.id, kind: task.kind, attempt: task.attempts, transient, err: reason, ...(output ? { output } : {}) }, 'task failed');
    if (transient && task.attempts < task.max_attempts) {
      const delay = Math.min(60_000, (this.opts.baseBackoffMs ?? 500) * 2 ** (task.attempts - 1));
      await tasksDb.retryLater(this.db, task.id, this.opts.owner, delay, reason);
      return;
    }
    const detail = output ? `${reason}: ${output}` : reason;
    const userDetail = failureDetail(task.kind, err instanceof DriverError ? err.userDetail : undefined);
    await this.db.transaction((trx) => failTask(trx, task, detail, userDetail));
  }
}

export async function failTask(trx: Parameters<typeof taskFailed>[0], task: DbTaskRow, reason: string, userDetail?: MessageDetail): Promise<void> {
  await tasksDb.fail(trx, task.id, reason);
  await taskFailed(trx, task, reason, userDetail ?? failureDetail(task.kind, undefined));
  await settleGroupTask(trx, task, true);
}
