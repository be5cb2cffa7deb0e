import { randomUUID } from 'node:crypto';
import { TaskState } from '../domain/status';
import type { Knex } from 'knex';
import type { Conn } from './connection';

export interface DbTaskRow {
  id: string;
  kind: string;
  resource_type: string;
  resource_id: string;
  backend: string;
  payload: Record<string, unknown>;
  state: TaskState;
  attempts: number;
  max_attempts: number;
  available_at: Date;
  published_at: Date | null;
  lease_until: Date | null;
  lease_owner: string | null;
  last_error: string | null;
  request_id: string | null;
  project_id: string | null;
  created_at: Date;
  completed_at: Date | null;
  /** The current attempt's fence: written by each claim, cleared when its lease is taken back. */
  attempt_token: string | null;
  /** Attempts that ended because their lease ran out; they do not count against `max_attempts`. */
  lapses: number;
  /** What the task's storage work touches (`volume:<id>`): tasks of one key run one at a time, in `seq` order. */
  resource_key: string | null;
  /** Acceptance order. */
  seq: string;
}

/**
 * A task's payload in the shape its kind's writer gave it. The row holds JSON that only the service
 * writing a kind and the handler reading it agree on; nothing checks it at run time, so this is the
 * one place that trusts it.
 */
export const payloadOf = <P extends object>(task: Pick<DbTaskRow, 'payload'>): P => task.payload as P;

/** What identifies one attempt of a task: the task and the token its claim wrote. */
export interface Attempt {
  readonly id: string;
  readonly attempt_token: string | null;
}

/** Attempts that count against `max_attempts`: the claims, less those whose lease ran out. */
export const spentAttempts = (t: Pick<DbTaskRow, 'attempts' | 'lapses'>): number => t.attempts - (t.lapses ?? 0);

/**
 * `column` in `states`, the states written into the statement's text. The partial indexes on `tasks`
 * (tasks_unpublished, tasks_running_lease, tasks_pending, tasks_open_key) hold only where the state is
 * known when PostgreSQL plans: bound as parameters, every prepared statement's generic plan read the
 * whole table, finished tasks and all (issue 17). The states are this module's constants, never input.
 */
function inStates(column: string, ...states: TaskState[]): string {
  if (!states.every((s) => KNOWN_STATES.has(s))) throw new Error(`not task states: ${states.join(', ')}`);
  return `${column} IN (${states.map((s) => `'${s}'`).join(', ')})`;
}
const KNOWN_STATES = new Set<string>(Object.values(TaskState));

export type NewTask = Pick<
  DbTaskRow,
  'id' | 'kind' | 'resource_type' | 'resource_id' | 'backend' | 'payload' | 'max_attempts' | 'request_id' | 'project_id'
> & { resource_key?: string | null };

export async function insert(conn: Conn, t: NewTask): Promise<void> {
  const now = new Date();
  await conn('tasks').insert({
    ...t,
    payload: JSON.stringify(t.payload),
    state: TaskState.pending,
    attempts: 0,
    available_at: now,
    created_at: now,
  });
}

/**
 * Marks up to `limit` pending tasks due for publishing as published, in one statement, and returns them oldest
 * first. Call inside a transaction: the rows stay locked until it ends (concurrent relays skip them, SKIP LOCKED),
 * so a publish that fails rolls the mark back with it.
 */
export async function takeDueUnpublished(trx: Conn, limit: number): Promise<Array<Pick<DbTaskRow, 'id' | 'kind' | 'backend'>>> {
  const now = new Date();
  const due = trx('tasks')
    .select('id')
    .whereRaw(inStates('state', TaskState.pending))
    .whereNull('published_at')
    .where('available_at', '<=', now)
    .orderBy('available_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  const rows: Array<Pick<DbTaskRow, 'id' | 'kind' | 'backend' | 'available_at'>> = await trx('tasks')
    .whereIn('id', due)
    .update({ published_at: now })
    .returning(['id', 'kind', 'backend', 'available_at']);
  // RETURNING keeps no order.
  return rows.sort((a, b) => a.available_at.getTime() - b.available_at.getTime());
}

/**
 * An older task of the same resource key still open (pending or running):
 * the task must wait for it (per-volume ordering). For a `tasks` row in
 * the outer query.
 */
const olderOpen = (conn: Conn) =>
  conn('tasks as older')
    .select(conn.raw('1'))
    .whereRaw('older.resource_key = tasks.resource_key')
    .whereRaw(inStates('older.state', TaskState.pending, TaskState.running))
    .whereRaw('older.seq < tasks.seq');

/**
 * After task `id` of a key finished (`finished`: a CTE returning its `resource_key`): the tasks waiting behind it
 * (delivered while it ran, and skipped) are published again, and their wait does not count as "no worker took
 * it" (available from now). Runs in the statement that finishes the task, whose own row it leaves to that CTE (a
 * failed pending task is still pending in the statement's snapshot; PostgreSQL does not update a row twice).
 */
const releaseSuccessors = (conn: Conn, id: string, now: Date) =>
  conn('tasks')
    .whereRaw(inStates('state', TaskState.pending))
    .where('resource_key', conn.select('resource_key').from('finished'))
    .whereNot('id', id)
    .update({ published_at: null, available_at: conn.raw('GREATEST(available_at, ?)', [now]) });

/**
 * Ends open task `id` with `changes` where `where` holds, releasing its key's successors in the same statement, and
 * running `outcome` (an UPDATE) there too only if the task was ended.
 */
async function finish(
  conn: Conn,
  id: string,
  where: Knex.QueryBuilder,
  changes: Record<string, unknown>,
  outcome?: Knex.QueryBuilder,
): Promise<boolean> {
  const now = new Date();
  const q = conn.with('finished', where.update(changes).returning('resource_key')).with('released', releaseSuccessors(conn, id, now));
  if (outcome) q.with('outcome', outcome.whereExists(conn.select(conn.raw('1')).from('finished')));
  const [row] = await q.count<Array<{ n: string }>>({ n: '*' }).from('finished');
  return Number(row?.n ?? 0) > 0;
}

/**
 * Takes the task for `owner` until now + leaseSeconds, if it is pending or
 * its previous lease has run out, under a fresh attempt token: whatever an
 * earlier attempt still does can no longer renew, complete, retry or fail
 * the task. Returns undefined when someone else holds it or it is finished
 * — a duplicate delivery then does nothing — and while an older task of
 * its resource key is open: it is published again when that one ends.
 */
export async function claim(conn: Conn, id: string, owner: string, leaseSeconds: number): Promise<DbTaskRow | undefined> {
  const now = new Date();
  const [row] = await conn<DbTaskRow>('tasks')
    .where('id', id)
    .whereRaw(inStates('state', TaskState.pending, TaskState.running))
    .where((w) => {
      w.whereNull('lease_until').orWhere('lease_until', '<', now);
    })
    .whereNotExists(olderOpen(conn))
    .update({
      state: TaskState.running,
      lease_owner: owner,
      attempts: conn.raw('attempts + 1'),
      lease_until: new Date(now.getTime() + leaseSeconds * 1000),
      attempt_token: randomUUID(),
    })
    .returning('*');
  return row as DbTaskRow | undefined;
}

/** The running task of this attempt (its token still on the row). */
const held = (conn: Conn, a: Attempt) =>
  conn('tasks').where({ id: a.id, attempt_token: a.attempt_token }).whereRaw(inStates('state', TaskState.running));

/** Extends the lease of an attempt that still holds its task; false if the token is gone (the task was offered again). */
export async function renewLease(conn: Conn, a: Attempt, leaseSeconds: number): Promise<boolean> {
  const n = await held(conn, a).update({ lease_until: new Date(Date.now() + leaseSeconds * 1000) });
  return n > 0;
}

/**
 * Locks the task's row for the rest of the transaction if this attempt
 * still holds it: while locked, no sweep or claim can take it, so a step
 * done meanwhile (a copy's final rename) is done by the holder only.
 */
export async function lockHeld(trx: Conn, a: Attempt): Promise<boolean> {
  const row = await held(trx, a).forUpdate().first('id');
  return row !== undefined;
}

/**
 * Finishes a task this attempt holds; false if it lost it meanwhile. `outcome`: an UPDATE recording what the task
 * did, run in the same statement, and only if the attempt still held the task: one round trip, no transaction.
 */
export async function complete(conn: Conn, a: Attempt, outcome?: Knex.QueryBuilder): Promise<boolean> {
  return finish(conn, a.id, held(conn, a), { state: TaskState.done, completed_at: new Date(), lease_until: null }, outcome);
}

/** Gives a held task back to the relay after `delayMs` (backoff; never an immediate requeue). */
export async function retryLater(conn: Conn, a: Attempt, delayMs: number, error: string): Promise<boolean> {
  const n = await held(conn, a).update({
    state: TaskState.pending,
    published_at: null,
    lease_until: null,
    lease_owner: null,
    attempt_token: null,
    available_at: new Date(Date.now() + delayMs),
    last_error: error,
  });
  return n > 0;
}

/**
 * Fails an open task, if it is still in the attempt given (the running
 * attempt's token, or none for a pending task): a stale attempt never fails
 * a task another attempt finished or holds. False if nothing changed.
 */
export async function fail(conn: Conn, a: Attempt, error: string): Promise<boolean> {
  const q = conn('tasks')
    .where('id', a.id)
    .whereRaw(inStates('state', TaskState.pending, TaskState.running));
  if (a.attempt_token === null) q.whereNull('attempt_token');
  else q.where('attempt_token', a.attempt_token);
  return finish(conn, a.id, q, { state: TaskState.failed, completed_at: new Date(), lease_until: null, last_error: error });
}

/** Running tasks whose lease has run out: their worker died or hung. */
export async function lockExpired(conn: Conn, limit: number): Promise<DbTaskRow[]> {
  return conn<DbTaskRow>('tasks')
    .whereRaw(inStates('state', TaskState.running))
    .where('lease_until', '<', new Date())
    .orderBy('lease_until')
    .limit(limit)
    .forUpdate()
    .skipLocked();
}

/** Sends an expired task round again: unpublished, so the relay picks it up. */
export async function requeueExpired(conn: Conn, a: Attempt): Promise<void> {
  // The token goes: the lapsed attempt, should it still run, finds it gone and gives up without writing.
  await held(conn, a).update({
    state: TaskState.pending,
    published_at: null,
    lease_until: null,
    lease_owner: null,
    attempt_token: null,
    available_at: new Date(),
    last_error: 'lease expired',
    lapses: conn.raw('lapses + 1'),
  });
}

/** Pending tasks no worker has taken since `before` (their backend has no live worker). */
export async function lockUnclaimed(conn: Conn, before: Date, limit: number): Promise<DbTaskRow[]> {
  // A task waiting behind an older one of its key is not unclaimed: its turn has not come.
  return conn<DbTaskRow>('tasks')
    .whereRaw(inStates('state', TaskState.pending))
    .where('available_at', '<', before)
    .whereNotExists(olderOpen(conn))
    .orderBy('available_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
}

/** Published but undelivered for too long (a lost message): publish again. */
export async function republishStale(conn: Conn, olderThan: Date): Promise<number> {
  return conn('tasks')
    .whereRaw(inStates('state', TaskState.pending))
    .whereNotNull('published_at')
    .where('published_at', '<', olderThan)
    .update({ published_at: null });
}

/**
 * Deletes finished tasks (done or failed) completed before `before`, `batch` rows per statement so that no one
 * statement holds many row locks or runs long; returns how many went. Open tasks are never touched.
 */
export async function purgeFinished(conn: Conn, before: Date, batch = 1000): Promise<number> {
  let purged = 0;
  for (;;) {
    const gone = await conn('tasks')
      .whereIn(
        'id',
        conn('tasks')
          .select('id')
          .whereRaw(inStates('state', TaskState.done, TaskState.failed))
          .where('completed_at', '<', before)
          .limit(batch),
      )
      .delete()
      .returning('id'); // RETURNING: PGlite's knex client reports no row count for DELETE
    purged += gone.length;
    if (gone.length < batch) return purged;
  }
}

export async function find(conn: Conn, id: string): Promise<DbTaskRow | undefined> {
  return conn<DbTaskRow>('tasks').where('id', id).first();
}

export async function listForResource(conn: Conn, resourceId: string): Promise<DbTaskRow[]> {
  return conn<DbTaskRow>('tasks').where('resource_id', resourceId).orderBy('created_at');
}

export async function countOpen(conn: Conn): Promise<number> {
  const [row] = await conn('tasks')
    .whereRaw(inStates('state', TaskState.pending, TaskState.running))
    .count<{ n: string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}
