import type { Knex } from 'knex';
import type { Conn } from './connection';
import { applyCommonFilters, countRows, page, scoped, type CommonFilters, type ProjectListQuery, type ProjectScope } from './projectRows';
import { isUuidLike } from '../domain/ids';
import { casRow, removeRow, updateRow, withMetadataJson } from './statusRows';

export interface DbBackupRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  snapshot_id: string | null;
  parent_id: string | null;
  display_name: string | null;
  display_description: string | null;
  container: string | null;
  availability_zone: string | null;
  status: string;
  fail_reason: string | null;
  /** GiB: the volume's size when the backup was taken. */
  size: number;
  object_count: number;
  is_incremental: boolean;
  /** The folder below the backup directory holding the chunks and the metadata object. */
  service_metadata: string | null;
  restore_volume_id: string | null;
  metadata: Record<string, string>;
  data_timestamp: Date | null;
  created_at: Date;
  updated_at: Date | null;
}

/** A backup row with what its views derive from other rows. */
export interface DbBackupView extends DbBackupRow {
  has_dependent_backups: boolean;
}

/** Which backups a caller may see: one project, or every project (admin). */
export type BackupScope = ProjectScope;

export interface BackupFilters extends CommonFilters {
  availability_zone?: string;
}

export type BackupListQuery = ProjectListQuery<BackupFilters>;

const DEPENDENTS = 'exists (select 1 from backups c where c.parent_id = backups.id) as has_dependent_backups';

function applyFilters(q: Knex.QueryBuilder, f: BackupFilters): void {
  applyCommonFilters(q, 'backups', f);
  if (f.availability_zone !== undefined) q.where('backups.availability_zone', f.availability_zone);
}

export async function list(conn: Conn, query: BackupListQuery): Promise<DbBackupView[]> {
  const q = scoped<DbBackupRow>(conn, 'backups', query.scope).select('backups.*', conn.raw(DEPENDENTS));
  applyFilters(q, query.filters);
  return page(q, 'backups', query) as unknown as Promise<DbBackupView[]>;
}

export async function count(conn: Conn, scope: BackupScope, filters: BackupFilters): Promise<number> {
  const q = scoped<DbBackupRow>(conn, 'backups', scope);
  applyFilters(q, filters);
  return countRows(q);
}

export async function find(conn: Conn, id: string, scope: BackupScope): Promise<DbBackupView | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped<DbBackupRow>(conn, 'backups', scope)
    .select('backups.*', conn.raw(DEPENDENTS))
    .where('backups.id', id)
    .first() as unknown as Promise<DbBackupView | undefined>;
}

/** The row, locked until the transaction ends (FOR UPDATE). */
export async function lock(conn: Conn, id: string, scope: BackupScope): Promise<DbBackupRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return scoped<DbBackupRow>(conn, 'backups', scope).where('backups.id', id).forUpdate().first();
}

/** Any row with this id, in any project (import refuses an id that exists). */
export async function exists(conn: Conn, id: string): Promise<boolean> {
  if (!isUuidLike(id)) return false;
  return (await conn('backups').select('id').where('id', id).first()) !== undefined;
}

/** A volume's backups in one project, newest data first, locked (an incremental picks its parent from them). */
export async function ofVolume(conn: Conn, volumeId: string, projectId: string): Promise<DbBackupRow[]> {
  return conn<DbBackupRow>('backups')
    .where({ volume_id: volumeId, project_id: projectId })
    .orderBy([
      { column: 'data_timestamp', order: 'desc' },
      { column: 'created_at', order: 'desc' },
    ])
    .forUpdate();
}

/** Backups taken against this one (incremental children). */
export async function children(conn: Conn, id: string): Promise<string[]> {
  return (await conn('backups').select('id').where('parent_id', id)).map((r: { id: string }) => r.id);
}

/** Other rows whose data lives in the same folder (an imported record and its original share it). */
export async function sharingFolder(conn: Conn, id: string, folder: string): Promise<string[]> {
  return (await conn('backups').select('id').where('service_metadata', folder).whereNot('id', id)).map((r: { id: string }) => r.id);
}

export async function insert(conn: Conn, row: DbBackupRow): Promise<void> {
  await conn('backups').insert({ ...row, metadata: JSON.stringify(row.metadata) });
}

type Writable = Partial<Omit<DbBackupRow, 'id' | 'project_id' | 'created_at'>>;

/** Compare-and-set: updates the row only if its status is one of `from`; undefined when it was not. */
export async function casStatus(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Writable & { status: string },
): Promise<DbBackupRow | undefined> {
  return casRow<DbBackupRow>(conn, 'backups', id, 'status', from, withMetadataJson(fields));
}

/** Updates fields that are not the status (name, description, metadata). */
export async function update(conn: Conn, id: string, fields: Omit<Writable, 'status'>): Promise<DbBackupRow | undefined> {
  return updateRow<DbBackupRow>(conn, 'backups', id, withMetadataJson(fields));
}

export async function remove(conn: Conn, id: string): Promise<boolean> {
  return removeRow(conn, 'backups', id);
}
