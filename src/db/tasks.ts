import { TaskState } from '../domain/status';
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
}

export type NewTask = Pick<DbTaskRow, 'id' | 'kind' | 'resource_type' | 'resource_id' | 'backend' | 'payload' | 'max_attempts' | 'request_id' | 'project_id'>;

export async function insert(conn: Conn, t: NewTask): Promise<void> {
  const now = new Date();
  await conn('tasks').insert({
    ...t, payload: JSON.stringify(t.payload), state: TaskState.pending, attempts: 0,
    available_at: now, created_at: now,
  });
}

/**
 * Pending tasks due for publishing, locked so that concurrent relays skip
 * each other's rows (SKIP LOCKED). Call inside a transaction.
 */
export async function lockDueUnpublished(conn: Conn, limit: number): Promise<DbTaskRow[]> {
  return conn<DbTaskRow>('tasks')
    .where('state', TaskState.pending).whereNull('published_at').where('available_at', '<=', new Date())
    .orderBy('available_at').limit(limit).forUpdate().skipLocked();
}

export async function markPublished(conn: Conn, ids: readonly string[]): Promise<void> {
  if (ids.length) await conn('tasks').whereIn('id', ids as string[]).update({ published_at: new Date() });
}

/**
 * Takes the task for `owner` until now + leaseSeconds, if it is pending or
 * its previous lease has run out. Returns undefined when someone else holds
 * it or it is finished — a duplicate delivery then does nothing.
 */
export async function claim(conn: Conn, id: string, owner: string, leaseSeconds: number): Promise<DbTaskRow | undefined> {
  const now = new Date();
  const [row] = await conn<DbTaskRow>('tasks')
    .where('id', id)
    .whereIn('state', [TaskState.pending, TaskState.running])
    .where((w) => { w.whereNull('lease_until').orWhere('lease_until', '<', now); })
    .update({
      state: TaskState.running, lease_owner: owner, attempts: conn.raw('attempts + 1'),
      lease_until: new Date(now.getTime() + leaseSeconds * 1000),
    })
    .returning('*');
  return row as DbTaskRow | undefined;
}

/** Extends a lease this owner still holds; false if it was lost. */
export async function renewLease(conn: Conn, id: string, owner: string, leaseSeconds: number): Promise<boolean> {
  const n = await conn('tasks').where({ id, state: TaskState.running, lease_owner: owner })
    .update({ lease_until: new Date(Date.now() + leaseSeconds * 1000) });
  return n > 0;
}

/** Finishes a task this owner holds; false if the lease was lost meanwhile. */
export async function complete(conn: Conn, id: string, owner: string): Promise<boolean> {
  const n = await conn('tasks').where({ id, state: TaskState.running, lease_owner: owner })
    .update({ state: TaskState.done, completed_at: new Date(), lease_until: null });
  return n > 0;
}

/** Gives a held task back to the relay after `delayMs` (backoff; never an immediate requeue). */
export async function retryLater(conn: Conn, id: string, owner: string, delayMs: number, error: string): Promise<boolean> {
  const n = await conn('tasks').where({ id, state: TaskState.running, lease_owner: owner }).update({
    state: TaskState.pending, published_at: null, lease_until: null, lease_owner: null,
    available_at: new Date(Date.now() + delayMs), last_error: error,
  });
  return n > 0;
}

export async function fail(conn: Conn, id: string, error: string): Promise<void> {
  await conn('tasks').where('id', id).update({
    state: TaskState.failed, completed_at: new Date(), lease_until: null, last_error: error,
  });
}

/** Running tasks whose lease has run out: their worker died or hung. */
export async function lockExpired(conn: Conn, limit: number): Promise<DbTaskRow[]> {
  return conn<DbTaskRow>('tasks').where('state', TaskState.running).where('lease_until', '<', new Date())
    .orderBy('lease_until').limit(limit).forUpdate().skipLocked();
}

/** Sends an expired task round again: unpublished, so the relay picks it up. */
export async function requeueExpired(conn: Conn, id: string): Promise<void> {
  await conn('tasks').where({ id, state: TaskState.running }).update({
    state: TaskState.pending, published_at: null, lease_until: null, lease_owner: null,
    available_at: new Date(), last_error: 'lease expired',
  });
}

/** Pending tasks no worker has taken since `before` (their backend has no live worker). */
export async function lockUnclaimed(conn: Conn, before: Date, limit: number): Promise<DbTaskRow[]> {
  return conn<DbTaskRow>('tasks').where('state', TaskState.pending).where('available_at', '<', before)
    .orderBy('available_at').limit(limit).forUpdate().skipLocked();
}

/** Published but undelivered for too long (a lost message): publish again. */
export async function republishStale(conn: Conn, olderThan: Date): Promise<number> {
  return conn('tasks').where('state', TaskState.pending).whereNotNull('published_at')
    .where('published_at', '<', olderThan).update({ published_at: null });
}

export async function find(conn: Conn, id: string): Promise<DbTaskRow | undefined> {
  return conn<DbTaskRow>('tasks').where('id', id).first();
}

export async function listForResource(conn: Conn, resourceId: string): Promise<DbTaskRow[]> {
  return conn<DbTaskRow>('tasks').where('resource_id', resourceId).orderBy('created_at');
}

export async function countOpen(conn: Conn): Promise<number> {
  const [row] = await conn('tasks').whereIn('state', [TaskState.pending, TaskState.running]).count<{ n: string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}
