import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { DriverError, isDatabaseUnavailable } from '../domain/errors';
import type { Db } from '../db/connection';
import * as tasksDb from '../db/tasks';
import type { DbTaskRow } from '../db/tasks';
import { failureDetail, taskFailed } from '../services/tasks/outcomes';
import type { MessageDetail } from '../services/messages/messages';
import { hasGroupToSettle, settleGroupTask } from '../services/groups/outcomes';
import { AttemptLost, type AttemptScope, type Driver } from './drivers/driver';
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
 *
 * Fencing: each claim writes a fresh attempt token, and every write of the
 * attempt (renewal, completion, retry, failure, the driver's fenced steps)
 * is conditional on it. A renewal that finds the token gone (the lease ran
 * out, the sweeper offered the task again, another attempt took it) aborts
 * the driver operation; the attempt then ends without writing anything.
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
    const lost = new AbortController();
    const scope: AttemptScope = {
      signal: lost.signal,
      token: task.attempt_token ?? `${task.attempts}`,
      fenced: (step) => this.fenced(task, lost, step),
    };
    const driver = this.driver.forAttempt ? this.driver.forAttempt(scope) : this.driver;
    let result: unknown;
    const renewal = this.keepLease(task, lost);
    try {
      result = await spec.run(task, withTaskVolume(driver, task.payload), this.opts.env ?? {});
    } catch (err) {
      if (lost.signal.aborted || err instanceof AttemptLost) {
        this.count(task.kind, 'lease_lost', started);
        return this.abandoned(task, err);
      }
      const outcome = await this.failed(task, err);
      this.count(task.kind, outcome, started);
      return;
    } finally {
      clearInterval(renewal);
    }
    if (lost.signal.aborted) {
      this.count(task.kind, 'lease_lost', started);
      return this.abandoned(task, lost.signal.reason);
    }
    // Lost the task meanwhile (we were too slow): the new holder redoes the idempotent work.
    const committed =
      spec.commitQuery && !hasGroupToSettle(task)
        ? await tasksDb.complete(this.db, task, spec.commitQuery(this.db, task, result))
        : await this.db.transaction(async (trx) => {
            if (!(await tasksDb.complete(trx, task))) return false;
            await spec.commit(trx, task, result);
            await settleGroupTask(trx, task, false); // a group member's outcome may settle its group (snapshot)
            return true;
          });
    this.count(task.kind, committed ? 'done' : 'lease_lost', started);
    if (committed) this.log.debug({ task: task.id, kind: task.kind }, 'task done');
    else this.abandoned(task, new AttemptLost());
  };

  /** The attempt lost its task to another: nothing of it is recorded. */
  private abandoned(task: DbTaskRow, reason: unknown): void {
    this.log.warn(
      { task: task.id, kind: task.kind, attempt: task.attempts, reason: reason instanceof Error ? reason.message : String(reason) },
      'the attempt lost its task (lease ran out); abandoned without recording anything',
    );
  }

  /** Runs `step` in a transaction that holds the task's row locked, if this attempt still holds the task. */
  private async fenced<T>(task: DbTaskRow, lost: AbortController, step: () => Promise<T>): Promise<T> {
    let ran = false;
    try {
      return await this.db.transaction(async (trx) => {
        if (!(await tasksDb.lockHeld(trx, task))) {
          const err = new AttemptLost();
          lost.abort(err);
          throw err;
        }
        ran = true;
        return await step();
      });
    } catch (err) {
      // The database went away around the step: whether it ran or not, a later attempt finds out (every step is
      // idempotent), so this is a transient failure, never a final one.
      if (isDatabaseUnavailable(err)) {
        throw new DriverError(
          `the database became unreachable ${ran ? 'after' : 'before'} a fenced step`,
          true,
          String((err as Error).message),
        );
      }
      throw err;
    }
  }

  /**
   * A long driver operation keeps its lease while it is alive (one small
   * UPDATE per third of a lease); a dead worker's lease runs out. A renewal
   * that finds the attempt's token gone aborts the operation.
   */
  private keepLease(task: DbTaskRow, lost: AbortController): NodeJS.Timeout {
    let busy = false;
    const t = setInterval(
      () => {
        if (busy || lost.signal.aborted) return; // one renewal at a time (a slow or unreachable database)
        busy = true;
        tasksDb
          .renewLease(this.db, task, this.opts.leaseSeconds)
          .then((held) => {
            if (!held) lost.abort(new AttemptLost());
          })
          .catch((err) => this.log.warn({ err, task: task.id }, 'lease renewal failed'))
          .finally(() => {
            busy = false;
          });
      },
      Math.max(200, (this.opts.leaseSeconds * 1000) / 3),
    );
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

  private async failed(task: DbTaskRow, err: unknown): Promise<'retry' | 'failed' | 'lease_lost'> {
    const transient = err instanceof DriverError ? err.transient : false;
    const reason = err instanceof Error ? err.message : String(err);
    const output = err instanceof DriverError && err.detail ? err.detail : undefined;
    this.log.warn(
      { task: task.id, kind: task.kind, attempt: task.attempts, transient, err: reason, ...(output ? { output } : {}) },
      'task failed',
    );
    if (transient && tasksDb.spentAttempts(task) < task.max_attempts) {
      const delay = Math.min(60_000, (this.opts.baseBackoffMs ?? 500) * 2 ** (tasksDb.spentAttempts(task) - 1));
      await tasksDb.retryLater(this.db, task, delay, reason);
      return 'retry';
    }
    const detail = output ? `${reason}: ${output}` : reason;
    const userDetail = failureDetail(task.kind, err instanceof DriverError ? err.userDetail : undefined);
    const failed = await this.db.transaction((trx) => failTask(trx, task, detail, userDetail));
    return failed ? 'failed' : 'lease_lost';
  }
}

/**
 * Fails the task in the attempt given (`tasksDb.fail`) and records what
 * that means for its resource; an attempt that no longer holds the task
 * changes nothing (false): no failed state, no user message.
 */
export async function failTask(
  trx: Parameters<typeof taskFailed>[0],
  task: DbTaskRow,
  reason: string,
  userDetail?: MessageDetail,
): Promise<boolean> {
  if (!(await tasksDb.fail(trx, task, reason))) return false;
  await taskFailed(trx, task, reason, userDetail ?? failureDetail(task.kind, undefined));
  await settleGroupTask(trx, task, true);
  return true;
}
