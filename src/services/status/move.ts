/**
 * The one way a status changes: a compare-and-set through a domain
 * `Transition` (allowed only from one of its `from`), on the table a
 * `StatusColumn` binds (columns.ts). Where the caller is answering a request,
 * a row not in `from` is refused with the caller's own error: Cinder words
 * that refusal differently per API, so the wording is passed in, never built
 * here.
 */
import type { Knex } from 'knex';
import type { Conn } from '../../db/connection';
import type { Transition } from '../../domain/status';

/** A resource's status column: its table's compare-and-set, writing `to` (and `fields`) only from one of `from`. */
export interface StatusColumn<S extends string, Row, Fields> {
  cas(conn: Conn, id: string, from: readonly S[], to: S, fields?: Fields): Promise<Row | undefined>;
  /** The same compare-and-set as an UPDATE not yet run, where a table offers it (`moveIfStillQuery`). */
  casQuery?(conn: Conn, id: string, from: readonly S[], to: S, fields?: Fields): Knex.QueryBuilder;
}

/** What a refused move answers (an ApiError, a GlanceError…), built only when the move is refused. */
export type Refusal = () => Error;

/**
 * Moves row `id` through `t` if its status is still one of `t.from`. The
 * moved row, or undefined: for a task's outcome a lost race is no error
 * (the row was force-deleted or reset meanwhile, and whoever did that owns it).
 */
export async function moveIfStill<S extends string, Row, Fields>(
  conn: Conn,
  column: StatusColumn<S, Row, Fields>,
  id: string,
  t: Transition<S>,
  fields?: Fields,
): Promise<Row | undefined> {
  return column.cas(conn, id, t.from, t.to, fields);
}

/**
 * moveIfStill as an UPDATE not yet run, for a statement that does more: a task's completion writes its outcome
 * in the statement that finishes the task (src/db/tasks.ts `complete`).
 */
export function moveIfStillQuery<S extends string, Row, Fields>(
  conn: Conn,
  column: StatusColumn<S, Row, Fields> & Required<Pick<StatusColumn<S, Row, Fields>, 'casQuery'>>,
  id: string,
  t: Transition<S>,
  fields?: Fields,
): Knex.QueryBuilder {
  return column.casQuery(conn, id, t.from, t.to, fields);
}

/** Moves row `id` through `t`, or throws `refuse()` when its status is not one of `t.from`. */
export async function moveOrRefuse<S extends string, Row, Fields>(
  conn: Conn,
  column: StatusColumn<S, Row, Fields>,
  id: string,
  t: Transition<S>,
  refuse: Refusal,
  fields?: Fields,
): Promise<Row> {
  const row = await moveIfStill(conn, column, id, t, fields);
  if (row === undefined) throw refuse();
  return row;
}

/**
 * The same refusal before the move, from the locked row's status: where
 * Cinder answers a wrong status before other checks (size, quota, children)
 * that must come between it and the move.
 */
export function refuseUnlessFrom<S extends string>(t: Transition<S>, current: string, refuse: Refusal): void {
  if (!(t.from as readonly string[]).includes(current)) throw refuse();
}
