import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';
import { isUuidLike } from '../domain/ids';

export interface DbGroupRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  availability_zone: string;
  group_type_id: string;
  backend: string | null;
  group_snapshot_id: string | null;
  source_group_id: string | null;
  created_at: Date;
  updated_at: Date | null;
}

/** A group with its volume types (ids, as the view shows them). */
export interface DbGroupView extends DbGroupRow {
  volume_type_ids: string[];
}

/** Whose groups a caller sees: its project's, or every project's (admin `all_tenants`). */
export interface GroupScope {
  readonly projectId: string | undefined;
}

function scoped(conn: Conn, scope: GroupScope) {
  const q = conn<DbGroupRow>('groups');
  if (scope.projectId !== undefined) q.where('groups.project_id', scope.projectId);
  return q;
}

async function withTypes(conn: Conn, rows: DbGroupRow[]): Promise<DbGroupView[]> {
  if (rows.length === 0) return [];
  const maps: Array<{ group_id: string; volume_type_id: string }> = await conn('group_volume_types')
    .whereIn(
      'group_id',
      rows.map((r) => r.id),
    )
    .orderBy('volume_type_id');
  return rows.map((r) => ({ ...r, volume_type_ids: maps.filter((m) => m.group_id === r.id).map((m) => m.volume_type_id) }));
}

export interface GroupListQuery {
  scope: GroupScope;
  filters: { name?: string; status?: string; project_id?: string };
  sort: readonly SortTerm[];
  limit: number;
  offset?: number;
  markerId?: string;
}

export async function list(conn: Conn, query: GroupListQuery): Promise<DbGroupView[]> {
  const q = scoped(conn, query.scope).select('groups.*');
  for (const [k, v] of Object.entries(query.filters)) if (v !== undefined) q.where(`groups.${k}`, v);
  applyKeyset(q, 'groups', query.sort, query.markerId);
  limitPage(q, query.limit);
  if (query.offset) q.offset(query.offset);
  return withTypes(conn, await q);
}

export async function find(conn: Conn, id: string, scope: GroupScope): Promise<DbGroupView | undefined> {
  if (!isUuidLike(id)) return undefined;
  const row = await scoped(conn, scope).where('groups.id', id).first();
  return row ? (await withTypes(conn, [row]))[0] : undefined;
}

/** The row locked until the transaction ends (every change to a group's membership or status decides on it). */
export async function lock(conn: Conn, id: string, scope: GroupScope): Promise<DbGroupView | undefined> {
  if (!isUuidLike(id)) return undefined;
  const row = await scoped(conn, scope).where('groups.id', id).forUpdate().first();
  return row ? (await withTypes(conn, [row]))[0] : undefined;
}

export async function insert(conn: Conn, row: DbGroupRow, volumeTypeIds: readonly string[]): Promise<void> {
  await conn('groups').insert(row);
  if (volumeTypeIds.length) await conn('group_volume_types').insert(volumeTypeIds.map((t) => ({ group_id: row.id, volume_type_id: t })));
}

export async function addVolumeType(conn: Conn, id: string, volumeTypeId: string): Promise<void> {
  await conn('group_volume_types')
    .insert({ group_id: id, volume_type_id: volumeTypeId })
    .onConflict(['group_id', 'volume_type_id'])
    .ignore();
}

/** Compare-and-set of the status; whether the row moved. */
export async function casStatus(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Partial<Pick<DbGroupRow, 'status' | 'name' | 'description'>>,
): Promise<boolean> {
  return (
    (
      await conn('groups')
        .where('id', id)
        .whereIn('status', from as string[])
        .update({ ...fields, updated_at: new Date() })
        .returning('id')
    ).length > 0
  );
}

export async function update(conn: Conn, id: string, fields: Partial<Pick<DbGroupRow, 'name' | 'description'>>): Promise<void> {
  await conn('groups')
    .where('id', id)
    .update({ ...fields, updated_at: new Date() });
}

export async function remove(conn: Conn, id: string): Promise<void> {
  await conn('groups').where('id', id).delete().returning('id');
}

/** The group's volumes (rows), oldest first. */
export async function volumesOf(
  conn: Conn,
  id: string,
): Promise<
  Array<{ id: string; status: string; attach_status: string; size: number; volume_type_id: string; backend: string; project_id: string }>
> {
  return conn('volumes')
    .select('id', 'status', 'attach_status', 'size', 'volume_type_id', 'backend', 'project_id')
    .where('group_id', id)
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
}

/** Sets (or clears, with null) the group of these volumes. */
export async function setVolumesGroup(conn: Conn, volumeIds: readonly string[], groupId: string | null): Promise<void> {
  if (volumeIds.length)
    await conn('volumes')
      .whereIn('id', volumeIds as string[])
      .update({ group_id: groupId, updated_at: new Date() });
}

/** Groups still being made from this group or group snapshot (their volumes copy from it). */
export async function creatingFrom(
  conn: Conn,
  source: { groupId?: string; groupSnapshotId?: string },
  creating: string,
): Promise<string[]> {
  const q = conn('groups').select('id').where('status', creating);
  if (source.groupId) q.where('source_group_id', source.groupId);
  else q.where('group_snapshot_id', source.groupSnapshotId!);
  return ((await q) as Array<{ id: string }>).map((r) => r.id);
}
