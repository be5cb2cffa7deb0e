import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';
import { isUuidLike } from '../domain/ids';

export interface DbQosSpecsRow {
  id: string;
  name: string;
  consumer: string;
  specs: Record<string, string>;
  created_at: Date;
  updated_at: Date | null;
}

export interface QosListQuery {
  filters: { id?: string; name?: string; consumer?: string };
  sort: readonly SortTerm[];
  limit: number;
  offset?: number;
  markerId?: string;
}

export async function list(conn: Conn, query: QosListQuery): Promise<DbQosSpecsRow[]> {
  const q = conn<DbQosSpecsRow>('qos_specs').select('qos_specs.*');
  for (const [k, v] of Object.entries(query.filters)) if (v !== undefined) q.where(`qos_specs.${k}`, v);
  applyKeyset(q, 'qos_specs', query.sort, query.markerId);
  limitPage(q, query.limit);
  if (query.offset) q.offset(query.offset);
  return q;
}

export async function find(conn: Conn, id: string): Promise<DbQosSpecsRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return conn<DbQosSpecsRow>('qos_specs').where('id', id).first();
}

/** The row, locked until the transaction ends: associations and deletes decide on it. */
export async function lock(conn: Conn, id: string): Promise<DbQosSpecsRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  return conn<DbQosSpecsRow>('qos_specs').where('id', id).forUpdate().first();
}

export async function findByName(conn: Conn, name: string): Promise<DbQosSpecsRow | undefined> {
  return conn<DbQosSpecsRow>('qos_specs').where('name', name).first();
}

export async function insert(conn: Conn, row: DbQosSpecsRow): Promise<void> {
  await conn('qos_specs').insert({ ...row, specs: JSON.stringify(row.specs) });
}

export async function update(conn: Conn, id: string, fields: { consumer?: string; specs?: Record<string, string> }): Promise<void> {
  await conn('qos_specs')
    .where('id', id)
    .update({
      ...(fields.consumer !== undefined ? { consumer: fields.consumer } : {}),
      ...(fields.specs !== undefined ? { specs: JSON.stringify(fields.specs) } : {}),
      updated_at: new Date(),
    });
}

export async function remove(conn: Conn, id: string): Promise<void> {
  await conn('qos_specs').where('id', id).delete();
}

/** Live volume types associated with the specs (Cinder's `qos_specs_associations_get`). */
export async function associatedTypes(conn: Conn, qosId: string): Promise<Array<{ id: string; name: string }>> {
  return conn('volume_types').select('id', 'name').where('qos_specs_id', qosId).whereNull('deleted_at').orderBy('name');
}

/** Sets (or with null clears) one type's association. */
export async function setTypeQos(conn: Conn, typeId: string, qosId: string | null): Promise<void> {
  await conn('volume_types').where('id', typeId).update({ qos_specs_id: qosId, updated_at: new Date() });
}

/** Clears every association with the specs, deleted types' too (they still reference the row). */
export async function disassociateAll(conn: Conn, qosId: string): Promise<void> {
  await conn('volume_types').where('qos_specs_id', qosId).update({ qos_specs_id: null });
}

/** A live volume type's row, locked (associate/disassociate decide on its qos_specs_id). */
export async function lockType(conn: Conn, typeId: string): Promise<{ id: string; qos_specs_id: string | null } | undefined> {
  if (!isUuidLike(typeId)) return undefined;
  return conn('volume_types').select('id', 'qos_specs_id').where('id', typeId).whereNull('deleted_at').forUpdate().first();
}
