/**
 * Queries of the consistency checks: the repair of attaches whose API died
 * (serverOps.ts) and `cairn-manage reconcile` (services/reconcile*.ts).
 */
import { AttachStatus } from '../domain/status';
import type { Conn } from './connection';
import type { DbBdmRow } from './servers';

/**
 * Volume mappings of idle servers (in `vmStates`, no task) whose attachment
 * never completed (none, gone, or reserved/attaching/error_attaching) and
 * that nobody touched since `olderThan`: an attach whose API process died.
 * A swap's mapping (attachment `detaching`) is not one of them.
 */
export async function staleMappings(
  conn: Conn,
  vmStates: readonly string[],
  olderThan: Date,
  limit: number,
  bdmId?: string,
): Promise<DbBdmRow[]> {
  const q = conn<DbBdmRow>('block_device_mappings as b')
    .join('servers as s', 's.id', 'b.server_id')
    .leftJoin('volume_attachments as a', 'a.id', 'b.attachment_id')
    .whereNull('s.deleted_at')
    .whereNull('s.task_state')
    .whereIn('s.vm_state', vmStates as string[])
    .whereNotNull('b.volume_id')
    .where((w) => {
      w.whereNull('a.id').orWhereIn('a.attach_status', [AttachStatus.reserved, AttachStatus.attaching, AttachStatus.errorAttaching]);
    })
    .whereRaw('COALESCE(b.updated_at, b.created_at) < ?', [olderThan])
    .select('b.*')
    .orderBy('b.created_at')
    .limit(limit);
  if (bdmId !== undefined) q.where('b.id', bdmId);
  return q;
}

export async function findBdmById(conn: Conn, id: string): Promise<DbBdmRow | undefined> {
  return conn<DbBdmRow>('block_device_mappings').where('id', id).first();
}

/** Marks a mapping as being worked on now (its attach is alive). */
export async function touchBdm(conn: Conn, id: string): Promise<void> {
  await conn('block_device_mappings').where('id', id).update({ updated_at: new Date() });
}

/** The ids among `ids` that are snapshots (any status). */
export async function existingSnapshotIds(conn: Conn, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await conn('snapshots')
    .whereIn('id', ids as string[])
    .select('id');
  return new Set(rows.map((r: { id: string }) => r.id));
}

/** Every volume id among `ids`, with its backend. */
export async function volumesByIds(conn: Conn, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await conn('volumes')
    .whereIn('id', ids as string[])
    .select('id', 'backend');
  return new Map(rows.map((r: { id: string; backend: string }) => [r.id, r.backend]));
}

/** Servers among `ids`, deleted ones too: id → deleted. */
export async function serversByIds(conn: Conn, ids: readonly string[]): Promise<Map<string, boolean>> {
  if (ids.length === 0) return new Map();
  const rows = await conn('servers')
    .whereIn('id', ids as string[])
    .select('id', 'deleted_at');
  return new Map(rows.map((r: { id: string; deleted_at: Date | null }) => [r.id, r.deleted_at !== null]));
}

/** provider_location `from` → `to`, only if it still is `from` (someone may have moved the volume meanwhile). */
export async function casLocation(conn: Conn, volumeId: string, from: string | null, to: string): Promise<boolean> {
  const q = conn('volumes').where('id', volumeId);
  if (from === null) q.whereNull('provider_location');
  else q.where('provider_location', from);
  return (await q.update({ provider_location: to, updated_at: new Date() })) > 0;
}

export async function setTaskResult(conn: Conn, taskId: string, result: unknown): Promise<void> {
  await conn('tasks')
    .where('id', taskId)
    .update({ result: JSON.stringify(result) });
}

export async function taskResult<T>(conn: Conn, taskId: string): Promise<T | undefined> {
  const row = await conn('tasks').where('id', taskId).select('result').first();
  const r = row?.result as unknown;
  if (r === null || r === undefined) return undefined;
  return (typeof r === 'string' ? JSON.parse(r) : r) as T;
}
