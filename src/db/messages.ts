import type { Conn } from './connection';
import { isUuidLike } from '../domain/ids';
import { applyKeyset, limitPage } from './keyset';

export interface DbMessageRow {
  id: string;
  project_id: string;
  request_id: string | null;
  resource_type: string;
  resource_uuid: string | null;
  event_id: string;
  message_level: string;
  user_message: string;
  created_at: Date;
  expires_at: Date;
}

export async function insert(conn: Conn, m: DbMessageRow): Promise<void> {
  await conn('messages').insert(m);
}

export async function find(conn: Conn, id: string, projectId: string | undefined): Promise<DbMessageRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  const q = conn<DbMessageRow>('messages').where('id', id);
  if (projectId !== undefined) q.where('project_id', projectId);
  return q.first();
}

export async function page(
  conn: Conn,
  projectId: string | undefined,
  f: { resource_uuid?: string; resource_type?: string; event_id?: string; request_id?: string; message_level?: string },
  limit: number,
  markerId?: string,
): Promise<DbMessageRow[]> {
  const q = conn<DbMessageRow>('messages').where('expires_at', '>', new Date());
  if (projectId !== undefined) q.where('project_id', projectId);
  for (const [k, v] of Object.entries(f)) if (v !== undefined) q.where(k, v);
  applyKeyset(q, 'messages', [{ expr: 'messages.created_at', dir: 'desc' }], markerId);
  return limitPage(q, limit);
}

/** Deletes the messages that expired before `before` (lists and shows hide them from their expiry on); how many went. */
export async function purgeExpired(conn: Conn, before: Date): Promise<number> {
  return (await conn('messages').where('expires_at', '<', before).delete().returning('id')).length;
}

export async function remove(conn: Conn, id: string): Promise<boolean> {
  // RETURNING: PGlite's knex client reports no row count for DELETE.
  return (await conn('messages').where('id', id).delete().returning('id')).length > 0;
}
