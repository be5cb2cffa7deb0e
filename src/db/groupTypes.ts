import type { Conn } from './connection';
import { isUuidLike } from '../domain/ids';

export interface DbGroupTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  created_at: Date;
  updated_at: Date | null;
}

/** Admins see every group type (or public/private only with `isPublic`); others the public ones. */
export interface GroupTypeVisibility {
  readonly isAdmin: boolean;
  readonly isPublic?: boolean;
}

function visible(conn: Conn, v: GroupTypeVisibility) {
  const q = conn<DbGroupTypeRow>('group_types');
  if (!v.isAdmin) q.where('is_public', true);
  else if (v.isPublic !== undefined) q.where('is_public', v.isPublic);
  return q;
}

export async function list(
  conn: Conn,
  v: GroupTypeVisibility,
  sort: ReadonlyArray<{ column: string; order: 'asc' | 'desc' }>,
): Promise<DbGroupTypeRow[]> {
  return visible(conn, v).orderBy([...sort, { column: 'id', order: 'asc' }]);
}

export async function find(conn: Conn, id: string, v: GroupTypeVisibility): Promise<DbGroupTypeRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return visible(conn, v).where('id', id).first();
}

export async function findByName(conn: Conn, name: string, v: GroupTypeVisibility): Promise<DbGroupTypeRow | undefined> {
  return visible(conn, v).where('name', name).first();
}

export async function lock(conn: Conn, id: string): Promise<DbGroupTypeRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return conn<DbGroupTypeRow>('group_types').where('id', id).forUpdate().first();
}

export async function insert(conn: Conn, row: DbGroupTypeRow): Promise<void> {
  await conn('group_types').insert(row);
}

export async function update(
  conn: Conn,
  id: string,
  fields: Partial<Pick<DbGroupTypeRow, 'name' | 'description' | 'is_public'>>,
): Promise<void> {
  await conn('group_types')
    .where('id', id)
    .update({ ...fields, updated_at: new Date() });
}

export async function remove(conn: Conn, id: string): Promise<void> {
  await conn('group_types').where('id', id).delete().returning('id'); // RETURNING: PGlite's knex client reports no row count for DELETE
}

/** Specs of several group types, keyed by type id (a null value is stored as Cinder stores it). */
export async function specsOf(conn: Conn, ids: readonly string[]): Promise<Map<string, Record<string, string | null>>> {
  const out = new Map<string, Record<string, string | null>>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const rows: Array<{ group_type_id: string; key: string; value: string | null }> = await conn('group_type_specs')
    .whereIn('group_type_id', ids as string[])
    .orderBy('key');
  for (const r of rows) out.get(r.group_type_id)![r.key] = r.value;
  return out;
}

export async function upsertSpecs(conn: Conn, id: string, specs: Record<string, string | null>): Promise<void> {
  const rows = Object.entries(specs).map(([key, value]) => ({ group_type_id: id, key, value }));
  if (rows.length) await conn('group_type_specs').insert(rows).onConflict(['group_type_id', 'key']).merge(['value']);
}

export async function deleteSpec(conn: Conn, id: string, key: string): Promise<boolean> {
  return (await conn('group_type_specs').where({ group_type_id: id, key }).delete().returning('key')).length > 0;
}

export async function groupsOfType(conn: Conn, id: string): Promise<number> {
  const [row] = await conn('groups').where('group_type_id', id).count<{ n: string | number }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}
