import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';
import { isUuidLike } from '../domain/ids';
import type { DbSnapshotRow } from './snapshots';

export interface DbGroupSnapshotRow {
  id: string;
  group_id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  group_type_id: string;
  created_at: Date;
  updated_at: Date | null;
}

export interface GroupSnapshotScope {
  readonly projectId: string | undefined;
}

function scoped(conn: Conn, scope: GroupSnapshotScope) {
  const q = conn<DbGroupSnapshotRow>('group_snapshots');
  if (scope.projectId !== undefined) q.where('group_snapshots.project_id', scope.projectId);
  return q;
}

export interface GroupSnapshotListQuery {
  scope: GroupSnapshotScope;
  filters: { name?: string; status?: string; group_id?: string; project_id?: string };
  sort: readonly SortTerm[];
  limit: number;
  offset?: number;
  markerId?: string;
}

export async function list(conn: Conn, query: GroupSnapshotListQuery): Promise<DbGroupSnapshotRow[]> {
  const q = scoped(conn, query.scope).select('group_snapshots.*');
  for (const [k, v] of Object.entries(query.filters)) if (v !== undefined) q.where(`group_snapshots.${k}`, v);
  applyKeyset(q, 'group_snapshots', query.sort, query.markerId);
  limitPage(q, query.limit);
  if (query.offset) q.offset(query.offset);
  return q;
}

export async function find(conn: Conn, id: string, scope: GroupSnapshotScope): Promise<DbGroupSnapshotRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped(conn, scope).where('group_snapshots.id', id).first();
}

export async function lock(conn: Conn, id: string, scope: GroupSnapshotScope): Promise<DbGroupSnapshotRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped(conn, scope).where('group_snapshots.id', id).forUpdate().first();
}

export async function insert(conn: Conn, row: DbGroupSnapshotRow): Promise<void> {
  await conn('group_snapshots').insert(row);
}

export async function casStatus(conn: Conn, id: string, from: readonly string[], status: string): Promise<boolean> {
  return (
    (
      await conn('group_snapshots')
        .where('id', id)
        .whereIn('status', from as string[])
        .update({ status, updated_at: new Date() })
        .returning('id')
    ).length > 0
  );
}

export async function remove(conn: Conn, id: string): Promise<void> {
  await conn('group_snapshots').where('id', id).delete().returning('id');
}

/** The member snapshots, oldest first, locked when `forUpdate`. */
export async function members(conn: Conn, id: string, forUpdate = false): Promise<DbSnapshotRow[]> {
  const q = conn<DbSnapshotRow>('snapshots')
    .where('group_snapshot_id', id)
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  return forUpdate ? q.forUpdate() : q;
}

export async function countOfGroup(conn: Conn, groupId: string): Promise<number> {
  const [row] = await conn('group_snapshots').where('group_id', groupId).count<{ n: string | number }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}
