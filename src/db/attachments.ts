import { isUuidLike } from '../domain/ids';
import type { Conn } from './connection';
import { applyKeyset, limitPage } from './keyset';
import { casRow, removeRow, updateRow } from './statusRows';

export interface DbAttachmentRow {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_mode: 'rw' | 'ro' | null;
  attach_status: string;
  connector: Record<string, unknown> | null;
  connection_info: Record<string, unknown> | null;
  attach_time: Date | null;
  detach_time: Date | null;
  created_at: Date;
  updated_at: Date | null;
}

export interface AttachmentFilters {
  projectId?: string;
  volume_id?: string;
  instance_id?: string;
  attach_status?: string;
}

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export async function insert(conn: Conn, row: DbAttachmentRow): Promise<void> {
  await conn('volume_attachments').insert({ ...row, connector: json(row.connector), connection_info: json(row.connection_info) });
}

export async function find(conn: Conn, id: string, projectId?: string): Promise<DbAttachmentRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  const q = conn<DbAttachmentRow>('volume_attachments').where('id', id);
  if (projectId !== undefined) q.where('project_id', projectId);
  return q.first();
}

export async function ofVolume(conn: Conn, volumeId: string): Promise<DbAttachmentRow[]> {
  return conn<DbAttachmentRow>('volume_attachments').where('volume_id', volumeId).orderBy('created_at');
}

export async function list(conn: Conn, f: AttachmentFilters, limit: number, markerId?: string): Promise<DbAttachmentRow[]> {
  const q = conn<DbAttachmentRow>('volume_attachments');
  if (f.projectId !== undefined) q.where('project_id', f.projectId);
  if (f.volume_id !== undefined) q.where('volume_id', f.volume_id);
  if (f.instance_id !== undefined) q.where('instance_uuid', f.instance_id);
  if (f.attach_status !== undefined) q.where('attach_status', f.attach_status);
  applyKeyset(q, 'volume_attachments', [{ expr: 'volume_attachments.created_at', dir: 'desc' }], markerId);
  return limitPage(q, limit);
}

type Writable = Partial<Omit<DbAttachmentRow, 'id' | 'volume_id' | 'project_id' | 'created_at'>>;

function serialise(fields: Writable): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields, updated_at: new Date() };
  if ('connector' in fields) out.connector = json(fields.connector);
  if ('connection_info' in fields) out.connection_info = json(fields.connection_info);
  return out;
}

/** Compare-and-set on attach_status; undefined when the attachment was not in one of `from`. */
export async function casStatus(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Writable & { attach_status: string },
): Promise<DbAttachmentRow | undefined> {
  return casRow<DbAttachmentRow>(conn, 'volume_attachments', id, 'attach_status', from, serialise(fields));
}

export async function update(conn: Conn, id: string, fields: Writable): Promise<DbAttachmentRow | undefined> {
  return updateRow<DbAttachmentRow>(conn, 'volume_attachments', id, serialise(fields));
}

export async function remove(conn: Conn, id: string): Promise<boolean> {
  return removeRow(conn, 'volume_attachments', id);
}
