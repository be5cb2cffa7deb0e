import type { Knex } from 'knex';
import type { Conn, Tx } from '../../db/connection';
import type { DbTaskRow } from '../../db/tasks';
import type { Driver } from '../drivers/driver';
import type { WorkerEnv } from '../workerEnv';

/**
 * A task kind's two halves: `run` does the (idempotent) storage work and
 * returns what to record; `commit` records it in the task's transaction.
 * Tables of kinds hold them as `TaskHandlerSpec` (R unknown): the runner hands a
 * run's result only to the same spec's commit, and each entry's own R is checked
 * where it is written (`satisfies TaskHandlerSpec<R>`).
 */
export interface TaskHandlerSpec<R = unknown> {
  run(task: DbTaskRow, driver: Driver, env: WorkerEnv): Promise<R>;
  commit(trx: Tx, task: DbTaskRow, result: R): Promise<void>;
  /**
   * `commit` as one UPDATE, where it is one: the runner then completes the task and records its outcome in a
   * single statement (src/db/tasks.ts `complete`) — unless the task has a group to settle too.
   */
  commitQuery?(conn: Conn, task: DbTaskRow, result: R): Knex.QueryBuilder;
}
