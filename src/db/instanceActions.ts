import { randomUUID } from 'node:crypto';
import type { Conn } from './connection';

/** One step of an action (`instance_actions_events`). */
export interface InstanceActionEvent {
  event: string;
  start_time: string;
  finish_time: string | null;
  result: string | null;
  traceback: string | null;
}

export interface DbInstanceActionRow {
  id: string;
  server_id: string;
  project_id: string;
  user_id: string | null;
  request_id: string;
  action: string;
  message: string | null;
  events: InstanceActionEvent[];
  start_time: Date;
  updated_at: Date | null;
}

export interface NewInstanceAction {
  serverId: string;
  projectId: string;
  userId: string | null;
  requestId: string;
  action: string;
  /** The one event of the action, finished with `Success` (or `Error` when `failed`). */
  event: string;
  failed?: boolean;
}

/** Records an action that has run to its end (its one event finished now). */
export async function record(conn: Conn, a: NewInstanceAction): Promise<void> {
  const now = new Date();
  const event: InstanceActionEvent = {
    event: a.event,
    start_time: now.toISOString(),
    finish_time: now.toISOString(),
    result: a.failed ? 'Error' : 'Success',
    traceback: null,
  };
  await conn('instance_actions').insert({
    id: randomUUID(),
    server_id: a.serverId,
    project_id: a.projectId,
    user_id: a.userId,
    request_id: a.requestId,
    action: a.action,
    message: a.failed ? 'Error' : null,
    events: JSON.stringify([event]),
    start_time: now,
    updated_at: now,
  });
}

/** The server's actions, newest first (`instance_action_get_by_instance`). */
export async function ofServer(conn: Conn, serverId: string, limit?: number): Promise<DbInstanceActionRow[]> {
  const q = conn<DbInstanceActionRow>('instance_actions')
    .where('server_id', serverId)
    .orderBy([
      { column: 'start_time', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
  if (limit !== undefined) q.limit(limit);
  return q;
}

export async function byRequest(conn: Conn, serverId: string, requestId: string): Promise<DbInstanceActionRow | undefined> {
  return conn<DbInstanceActionRow>('instance_actions').where({ server_id: serverId, request_id: requestId }).first();
}
