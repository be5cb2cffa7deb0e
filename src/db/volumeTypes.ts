import type { Conn } from './connection';
import { fixedStatementsByShape } from './fixedStatements';
import { isUuidLike } from '../domain/ids';

export interface DbVolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  /** The QoS specs associated with the type (qos-specs associate), if any. */
  qos_specs_id?: string | null;
  created_at: Date;
  updated_at: Date | null;
  deleted_at: Date | null;
}

export interface VolumeTypeVisibility {
  /** Admins see every type; others see public ones and private ones shared with their project. */
  readonly isAdmin: boolean;
  readonly projectId: string;
  /** `?is_public=` for admins: true, false, or undefined for both. */
  readonly isPublic?: boolean;
}

const live = (conn: Conn) => conn<DbVolumeTypeRow>('volume_types').whereNull('deleted_at');

/**
 * Which types a caller sees, as one SQL condition on `volume_types` and its bindings (none: every live type, an
 * admin's list): the query builder's reads and the types list's fixed statement both use it.
 */
function visibleWhere(v: VolumeTypeVisibility): { sql: string; bindings: Array<string | boolean> } {
  if (v.isAdmin) return v.isPublic === undefined ? { sql: '', bindings: [] } : { sql: 'is_public = ?', bindings: [v.isPublic] };
  return {
    sql:
      '(is_public = true OR EXISTS (SELECT 1 FROM volume_type_projects ' +
      'WHERE volume_type_projects.volume_type_id = volume_types.id AND project_id = ?))',
    bindings: [v.projectId],
  };
}

function visible(conn: Conn, v: VolumeTypeVisibility) {
  const q = live(conn);
  const where = visibleWhere(v);
  return where.sql ? q.whereRaw(where.sql, where.bindings) : q;
}

export async function listVisible(conn: Conn, v: VolumeTypeVisibility, sort: 'name' | 'created_at' = 'name'): Promise<DbVolumeTypeRow[]> {
  return visible(conn, v).orderBy(sort, 'asc').orderBy('id', 'asc');
}

type VolumeTypeRowWithSpecs = DbVolumeTypeRow & { extraSpecs: Record<string, string> };
type RowWithSpecsJson = DbVolumeTypeRow & { extra_specs?: unknown };

/** A type's extra specs as one json object, for the `volume_types` row of the query around it. */
const SPECS_OF_ROW = `(SELECT coalesce(json_object_agg(s.key, s.value ORDER BY s.key), '{}'::json) FROM volume_type_extra_specs s
         WHERE s.volume_type_id = volume_types.id) AS extra_specs`;

const withParsedSpecs = ({ extra_specs: specs, ...row }: RowWithSpecsJson): VolumeTypeRowWithSpecs => ({
  ...row,
  extraSpecs: (typeof specs === 'string' ? JSON.parse(specs) : specs) as Record<string, string>,
});

/**
 * listVisible with each type's extra specs, in one query (`extra_specs`: a json object, keys in
 * order): a list of types costs one round trip to the database, as a volume show does. A fixed
 * statement per visibility and order (src/db/fixedStatements.ts): the list every client reads.
 */
export async function listVisibleWithSpecs(
  conn: Conn,
  v: VolumeTypeVisibility,
  sort: 'name' | 'created_at' = 'name',
): Promise<VolumeTypeRowWithSpecs[]> {
  const where = visibleWhere(v);
  const rows = await typeListStatement(where.sql, sort)(conn, where.bindings);
  return rows.map(withParsedSpecs);
}

/** The types list as a fixed statement, one per visibility condition (`visibleWhere`) and order. */
const typeListStatement = fixedStatementsByShape<[where: string, sort: 'name' | 'created_at'], RowWithSpecsJson>(
  (where, sort) =>
    `SELECT volume_types.*, ${SPECS_OF_ROW}
     FROM volume_types WHERE deleted_at IS NULL${where ? ` AND ${where}` : ''}
     ORDER BY ${sort} ASC, id ASC`,
);

/**
 * One live type with its extra specs, in one query: by id or by name, visible to `v` (omitted: any live type);
 * `forShare`: its row share-locked until the transaction ends.
 */
export async function findWithSpecs(
  conn: Conn,
  by: { id: string } | { name: string },
  v?: VolumeTypeVisibility,
  forShare = false,
): Promise<VolumeTypeRowWithSpecs | undefined> {
  if ('id' in by && !isUuidLike(by.id)) return undefined;
  const q = (v ? visible(conn, v) : live(conn)).select('volume_types.*', conn.raw(SPECS_OF_ROW));
  if (forShare) q.forShare();
  const row = (await ('id' in by ? q.where('id', by.id) : q.where('name', by.name)).first()) as RowWithSpecsJson | undefined;
  return row && withParsedSpecs(row);
}

export async function findById(conn: Conn, id: string): Promise<DbVolumeTypeRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return live(conn).where('id', id).first();
}

export async function findByName(conn: Conn, name: string): Promise<DbVolumeTypeRow | undefined> {
  return live(conn).where('name', name).first();
}

export async function insert(conn: Conn, row: Omit<DbVolumeTypeRow, 'deleted_at' | 'updated_at'>): Promise<void> {
  await conn('volume_types').insert(row);
}

export async function update(
  conn: Conn,
  id: string,
  fields: Partial<Pick<DbVolumeTypeRow, 'name' | 'description' | 'is_public'>>,
): Promise<DbVolumeTypeRow | undefined> {
  const [row] = await live(conn)
    .where('id', id)
    .update({ ...fields, updated_at: new Date() })
    .returning('*');
  return row as DbVolumeTypeRow | undefined;
}

export async function softDelete(conn: Conn, id: string): Promise<boolean> {
  return (await live(conn).where('id', id).update({ deleted_at: new Date() })) > 0;
}

/** Extra specs of several types at once, keyed by type id. */
export async function extraSpecsOf(conn: Conn, typeIds: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(typeIds.map((id) => [id, {}]));
  if (typeIds.length === 0) return out;
  const rows: { volume_type_id: string; key: string; value: string }[] = await conn('volume_type_extra_specs')
    .whereIn('volume_type_id', typeIds)
    .orderBy('key');
  for (const r of rows) out.get(r.volume_type_id)![r.key] = r.value;
  return out;
}

export async function upsertExtraSpecs(conn: Conn, typeId: string, specs: Record<string, string>): Promise<void> {
  const rows = Object.entries(specs).map(([key, value]) => ({ volume_type_id: typeId, key, value }));
  if (rows.length === 0) return;
  await conn('volume_type_extra_specs').insert(rows).onConflict(['volume_type_id', 'key']).merge(['value']);
}

export async function deleteExtraSpec(conn: Conn, typeId: string, key: string): Promise<boolean> {
  return (await conn('volume_type_extra_specs').where({ volume_type_id: typeId, key }).delete().returning('*')).length > 0; // RETURNING: PGlite's knex client reports no row count for DELETE
}

export async function listProjects(conn: Conn, typeId: string): Promise<string[]> {
  const rows: { project_id: string }[] = await conn('volume_type_projects').where('volume_type_id', typeId).orderBy('project_id');
  return rows.map((r) => r.project_id);
}

export async function addProject(conn: Conn, typeId: string, projectId: string): Promise<boolean> {
  const res = await conn('volume_type_projects')
    .insert({ volume_type_id: typeId, project_id: projectId })
    .onConflict(['volume_type_id', 'project_id'])
    .ignore()
    .returning('project_id');
  return res.length > 0;
}

export async function removeProject(conn: Conn, typeId: string, projectId: string): Promise<boolean> {
  return (await conn('volume_type_projects').where({ volume_type_id: typeId, project_id: projectId }).delete().returning('*')).length > 0; // RETURNING: PGlite's knex client reports no row count for DELETE
}

/** Serialises changes to one type (spec edits vs volume creates of that type). */
export async function lockForUpdate(conn: Conn, id: string): Promise<DbVolumeTypeRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return live(conn).where('id', id).forUpdate().first();
}
