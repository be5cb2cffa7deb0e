import type { Conn } from './connection';
import { isUuidLike } from '../domain/ids';

export interface DbTypeEncryptionRow {
  volume_type_id: string;
  encryption_id: string;
  provider: string;
  cipher: string | null;
  key_size: number | null;
  control_location: string;
  created_at: Date;
  updated_at: Date | null;
}

export type EncryptionFields = Partial<Pick<DbTypeEncryptionRow, 'provider' | 'cipher' | 'key_size' | 'control_location'>>;

export async function find(conn: Conn, typeId: string): Promise<DbTypeEncryptionRow | undefined> {
  return conn<DbTypeEncryptionRow>('volume_type_encryption').where('volume_type_id', typeId).first();
}

export async function insert(conn: Conn, row: DbTypeEncryptionRow): Promise<void> {
  await conn('volume_type_encryption').insert(row);
}

/** Whether a row was there to update. */
export async function update(conn: Conn, typeId: string, fields: EncryptionFields): Promise<boolean> {
  const rows = await conn('volume_type_encryption')
    .where('volume_type_id', typeId)
    .update({ ...fields, updated_at: new Date() })
    .returning('volume_type_id');
  return rows.length > 0;
}

/** Whether a row was there to delete. */
export async function remove(conn: Conn, typeId: string): Promise<boolean> {
  return (await conn('volume_type_encryption').where('volume_type_id', typeId).delete().returning('volume_type_id')).length > 0;
}

/** Whether any volume is of the type (Cinder's `_encrypted_type_in_use`). */
export async function typeInUse(conn: Conn, typeId: string): Promise<boolean> {
  return Boolean(await conn('volumes').where('volume_type_id', typeId).first('id'));
}

/** Whether a live volume type exists; `lock` holds its row (encryption changes are decided against its volumes). */
export async function typeExists(conn: Conn, typeId: string, lock: boolean): Promise<boolean> {
  if (!isUuidLike(typeId)) return false;
  const q = conn('volume_types').where('id', typeId).whereNull('deleted_at');
  return Boolean(await (lock ? q.forUpdate() : q).first('id'));
}
