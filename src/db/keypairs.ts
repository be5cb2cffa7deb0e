import type { Conn } from './connection';

export interface DbKeypairRow {
  user_id: string;
  name: string;
  type: string;
  public_key: string;
  fingerprint: string;
  created_at: Date;
}

export async function listOf(conn: Conn, userId: string): Promise<DbKeypairRow[]> {
  return conn<DbKeypairRow>('key_pairs').where('user_id', userId).orderBy('name');
}

export async function find(conn: Conn, userId: string, name: string): Promise<DbKeypairRow | undefined> {
  return conn<DbKeypairRow>('key_pairs').where({ user_id: userId, name }).first();
}

/** False when the user already has a key pair of that name. */
export async function insert(conn: Conn, row: DbKeypairRow): Promise<boolean> {
  const inserted = await conn('key_pairs').insert(row).onConflict(['user_id', 'name']).ignore().returning('name');
  return inserted.length > 0;
}

export async function remove(conn: Conn, userId: string, name: string): Promise<boolean> {
  // RETURNING: PGlite's knex client reports no row count for DELETE.
  return (await conn('key_pairs').where({ user_id: userId, name }).delete().returning('name')).length > 0;
}
