import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';
import { isUuidLike } from '../domain/ids';

export interface DbTransferRow {
  id: string;
  volume_id: string;
  display_name: string | null;
  salt: string;
  crypt_hash: string;
  no_snapshots: boolean;
  source_project_id: string;
  created_at: Date;
}

/** Whose transfers a caller sees: its project's (the donor's), or every project's (admin). */
export interface TransferScope {
  readonly projectId: string | undefined;
}

function scoped(conn: Conn, scope: TransferScope) {
  const q = conn<DbTransferRow>('transfers');
  if (scope.projectId !== undefined) q.where('transfers.source_project_id', scope.projectId);
  return q;
}

export interface TransferListQuery {
  scope: TransferScope;
  filters: { id?: string; volume_id?: string; display_name?: string };
  sort: readonly SortTerm[];
  limit: number;
  offset?: number;
  markerId?: string;
}

export async function list(conn: Conn, query: TransferListQuery): Promise<DbTransferRow[]> {
  const q = scoped(conn, query.scope).select('transfers.*');
  for (const [k, v] of Object.entries(query.filters)) if (v !== undefined) q.where(`transfers.${k}`, v);
  applyKeyset(q, 'transfers', query.sort, query.markerId);
  limitPage(q, query.limit);
  if (query.offset) q.offset(query.offset);
  return q;
}

export async function find(conn: Conn, id: string, scope: TransferScope): Promise<DbTransferRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped(conn, scope).where('transfers.id', id).first();
}

/** The row locked until the transaction ends (accept and delete decide on it). */
export async function lock(conn: Conn, id: string, scope: TransferScope): Promise<DbTransferRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped(conn, scope).where('transfers.id', id).forUpdate().first();
}

export async function insert(conn: Conn, row: DbTransferRow): Promise<void> {
  await conn('transfers').insert(row);
}

export async function remove(conn: Conn, id: string): Promise<void> {
  await conn('transfers').where('id', id).delete();
}

/** Gives the volume to another project and user, moving its status `from` → `to` (compare-and-set); whether it moved. */
export async function moveVolume(
  conn: Conn,
  volumeId: string,
  owner: { projectId: string; userId: string },
  status: { from: readonly string[]; to: string },
): Promise<boolean> {
  const moved = await conn('volumes')
    .where('id', volumeId)
    .whereIn('status', status.from as string[])
    .update({ project_id: owner.projectId, user_id: owner.userId, status: status.to, updated_at: new Date() })
    .returning('id');
  return moved.length > 0;
}

/** Gives snapshots (of a transferred volume) to another project and user. */
export async function moveSnapshots(conn: Conn, ids: readonly string[], owner: { projectId: string; userId: string }): Promise<void> {
  if (ids.length === 0) return;
  await conn('snapshots')
    .whereIn('id', ids as string[])
    .update({ project_id: owner.projectId, user_id: owner.userId, updated_at: new Date() });
}
