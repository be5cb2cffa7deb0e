import type { Conn } from './connection';

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

export async function listForProject(conn: Conn, projectId: string | undefined): Promise<DbMessageRow[]> {
  const q = conn<DbMessageRow>('messages').orderBy('created_at', 'desc');
  if (projectId !== undefined) q.where('project_id', projectId);
  return q;
}
