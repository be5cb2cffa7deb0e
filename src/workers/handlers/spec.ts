import type { Tx } from '../../db/connection';
import type { DbTaskRow } from '../../db/tasks';
import type { Driver } from '../drivers/driver';
import type { WorkerEnv } from '../workerEnv';

/**
 * A task kind's two halves: `run` does the (idempotent) storage work and
 * returns what to record; `commit` records it in the task's transaction.
 */
export interface TaskHandlerSpec<R = unknown> {
  run(task: DbTaskRow, driver: Driver, env: WorkerEnv): Promise<R>;
  commit(trx: Tx, task: DbTaskRow, result: R): Promise<void>;
}
