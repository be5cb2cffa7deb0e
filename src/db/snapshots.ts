import type { Conn } from './connection';
import { applyCommonFilters, countRows, page, scoped, type CommonFilters, type ProjectListQuery, type ProjectScope } from './projectRows';
import { isUuidLike } from '../domain/ids';
import { casRow, removeRow, updateRow, withMetadataJson } from './statusRows';

export interface DbSnapshotRow {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  display_name: string | null;
  display_description: string | null;
  /** GiB: the volume's size when the snapshot was taken (Cinder's `volume_size`). */
  size: number;
  status: string;
  progress: string;
  volume_type_id: string;
  metadata: Record<string, string>;
  provider_location: string | null;
  /** The group snapshot it is a member of (3.14), if any. */
  group_snapshot_id?: string | null;
  created_at: Date;
  updated_at: Date | null;
}

/** Which snapshots a caller may see: one project, or every project (admin). */
export type SnapshotScope = ProjectScope;
export type SnapshotFilters = CommonFilters;
export type SnapshotListQuery = ProjectListQuery<SnapshotFilters>;

export async function list(conn: Conn, query: SnapshotListQuery): Promise<DbSnapshotRow[]> {
  const q = scoped<DbSnapshotRow>(conn, 'snapshots', query.scope).select('snapshots.*');
  applyCommonFilters(q, 'snapshots', query.filters);
  return page(q, 'snapshots', query);
}

export async function count(conn: Conn, scope: SnapshotScope, filters: SnapshotFilters): Promise<number> {
  const q = scoped<DbSnapshotRow>(conn, 'snapshots', scope);
  applyCommonFilters(q, 'snapshots', filters);
  return countRows(q);
}

export async function find(conn: Conn, id: string, scope: SnapshotScope): Promise<DbSnapshotRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped<DbSnapshotRow>(conn, 'snapshots', scope).where('snapshots.id', id).first();
}

/** The row, locked until the transaction ends (FOR UPDATE). */
export async function lock(conn: Conn, id: string, scope: SnapshotScope): Promise<DbSnapshotRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped<DbSnapshotRow>(conn, 'snapshots', scope).where('snapshots.id', id).forUpdate().first();
}

/** A volume's snapshots, newest first; locked when `forUpdate` (delete and revert decide on them). */
export async function ofVolume(conn: Conn, volumeId: string, forUpdate = false): Promise<DbSnapshotRow[]> {
  const q = conn<DbSnapshotRow>('snapshots')
    .where('volume_id', volumeId)
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
  return forUpdate ? q.forUpdate() : q;
}

export async function insert(conn: Conn, row: DbSnapshotRow): Promise<void> {
  await conn('snapshots').insert({ ...row, metadata: JSON.stringify(row.metadata) });
}

type Writable = Partial<Omit<DbSnapshotRow, 'id' | 'volume_id' | 'project_id' | 'created_at'>>;

/** Compare-and-set: updates the row only if its status is one of `from`; undefined when it was not. */
export async function casStatus(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Writable & { status: string },
): Promise<DbSnapshotRow | undefined> {
  return casRow<DbSnapshotRow>(conn, 'snapshots', id, 'status', from, withMetadataJson(fields));
}

/** Updates fields that are not the status (name, description, metadata). */
export async function update(conn: Conn, id: string, fields: Omit<Writable, 'status'>): Promise<DbSnapshotRow | undefined> {
  return updateRow<DbSnapshotRow>(conn, 'snapshots', id, withMetadataJson(fields));
}

export async function remove(conn: Conn, id: string): Promise<boolean> {
  return removeRow(conn, 'snapshots', id);
}

/** Volumes still being created from this snapshot or this source volume (their copy needs it). */
export async function volumesBeingMadeFrom(
  conn: Conn,
  source: { snapshotIds?: readonly string[]; volumeId?: string },
  creating: readonly string[],
): Promise<string[]> {
  const snaps = source.snapshotIds ?? [];
  if (snaps.length === 0 && source.volumeId === undefined) return [];
  const rows: Array<{ id: string }> = await conn('volumes')
    .select('id')
    .whereIn('status', creating as string[])
    .where((w) => {
      if (snaps.length) w.orWhereIn('snapshot_id', snaps as string[]);
      if (source.volumeId !== undefined) w.orWhere('source_volid', source.volumeId);
    });
  return rows.map((r) => r.id);
}
