import { isUuidLike } from '../domain/ids';
import type { DbAttachmentRow } from './attachments';
import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';

export interface ServerFault {
  code: number;
  message: string;
  created: string;
}

export interface DbServerRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string;
  description: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  flavor_id: string;
  image_ref: string;
  root_device_name: string;
  availability_zone: string;
  host: string;
  metadata: Record<string, string>;
  tags: string[];
  fault: ServerFault | null;
  lease_until: Date | null;
  created_at: Date;
  updated_at: Date | null;
  launched_at: Date | null;
  deleted_at: Date | null;
  /** accessIPv4 / accessIPv6 as given (the v6 one canonical); null when none. */
  access_ip_v4?: string | null;
  access_ip_v6?: string | null;
}

export interface DbBdmRow {
  id: string;
  server_id: string;
  project_id: string;
  boot_index: number | null;
  device_name: string | null;
  source_type: string;
  destination_type: string;
  volume_id: string | null;
  snapshot_id: string | null;
  image_id: string | null;
  volume_size: number | null;
  volume_type: string | null;
  delete_on_termination: boolean;
  tag: string | null;
  attachment_id: string | null;
  created_at: Date;
  updated_at: Date | null;
}

export type ServerWritable = Partial<Omit<DbServerRow, 'id' | 'project_id' | 'created_at'>>;

function serialise(fields: ServerWritable): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields, updated_at: new Date() };
  if (fields.metadata !== undefined) out.metadata = JSON.stringify(fields.metadata);
  if (fields.tags !== undefined) out.tags = JSON.stringify(fields.tags);
  if (fields.fault !== undefined) out.fault = fields.fault === null ? null : JSON.stringify(fields.fault);
  return out;
}

export async function insertServer(conn: Conn, row: DbServerRow): Promise<void> {
  await conn('servers').insert({
    ...serialise(row),
    id: row.id,
    project_id: row.project_id,
    created_at: row.created_at,
    updated_at: row.created_at,
  });
}

/** A server that is not deleted, in `projectId` when given. */
export async function findServer(conn: Conn, id: string, projectId?: string): Promise<DbServerRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  const q = conn<DbServerRow>('servers').where('id', id).whereNull('deleted_at');
  if (projectId !== undefined) q.where('project_id', projectId);
  return q.first();
}

/** The same, locked until the transaction ends: every change to a server or its mappings takes this lock first. */
export async function lockServer(conn: Conn, id: string, projectId?: string): Promise<DbServerRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  const q = conn<DbServerRow>('servers').where('id', id).whereNull('deleted_at').forUpdate();
  if (projectId !== undefined) q.where('project_id', projectId);
  return q.first();
}

export interface ServerListQuery {
  projectId?: string;
  vmStates?: readonly string[];
  name?: string;
  limit: number;
  markerId?: string;
  /** ORDER BY terms over `servers` columns; default `created_at desc` (then id). */
  sort?: readonly SortTerm[];
}

export async function listServers(conn: Conn, f: ServerListQuery): Promise<DbServerRow[]> {
  const q = conn<DbServerRow>('servers').whereNull('deleted_at');
  if (f.projectId !== undefined) q.where('project_id', f.projectId);
  if (f.vmStates !== undefined) q.whereIn('vm_state', f.vmStates as string[]);
  // Nova matches `name` as a regular expression (LIKE-free `~` in PostgreSQL).
  if (f.name !== undefined) q.whereRaw('name ~ ?', [f.name]);
  // The marker may be a deleted server (Nova reads markers with read_deleted='yes'): its values still order the page.
  applyKeyset(q, 'servers', f.sort?.length ? f.sort : [{ expr: 'servers.created_at', dir: 'desc' }], f.markerId);
  return limitPage(q, f.limit);
}

/** A server by id, deleted or not (a list marker, an instance action's server). */
export async function findServerEvenDeleted(conn: Conn, id: string, projectId?: string): Promise<DbServerRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  const q = conn<DbServerRow>('servers').where('id', id);
  if (projectId !== undefined) q.where('project_id', projectId);
  return q.first();
}

export async function listAllServers(conn: Conn): Promise<DbServerRow[]> {
  return conn<DbServerRow>('servers').whereNull('deleted_at').orderBy('created_at');
}

export async function updateServer(conn: Conn, id: string, fields: ServerWritable): Promise<DbServerRow | undefined> {
  const [row] = await conn<DbServerRow>('servers').where('id', id).update(serialise(fields)).returning('*');
  return row as DbServerRow | undefined;
}

/**
 * Compare-and-set on vm_state (and on task_state when `taskState` is given:
 * null means idle); undefined when the server was not in one of `from`.
 */
export async function casServer(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: ServerWritable & { vm_state: string },
  taskState?: string | null,
): Promise<DbServerRow | undefined> {
  const q = conn<DbServerRow>('servers')
    .where('id', id)
    .whereNull('deleted_at')
    .whereIn('vm_state', from as string[]);
  if (taskState === null) q.whereNull('task_state');
  else if (taskState !== undefined) q.where('task_state', taskState);
  const [row] = await q.update(serialise(fields)).returning('*');
  return row as DbServerRow | undefined;
}

/** Takes the drive of a server's in-flight operation until `until`, if nobody holds it. */
export async function claimLease(conn: Conn, id: string, until: Date): Promise<DbServerRow | undefined> {
  const [row] = await conn<DbServerRow>('servers')
    .where('id', id)
    .whereNotNull('task_state')
    .where((w) => {
      w.whereNull('lease_until').orWhere('lease_until', '<', new Date());
    })
    .update({ lease_until: until })
    .returning('*');
  return row as DbServerRow | undefined;
}

/** Extends the lease, or (null) gives it up. */
export async function renewLease(conn: Conn, id: string, until: Date | null): Promise<void> {
  await conn('servers').where('id', id).update({ lease_until: until });
}

/** Servers whose operation nobody drives (its driver died, or never started). */
export async function unleased(conn: Conn, limit: number): Promise<string[]> {
  const rows = await conn<DbServerRow>('servers')
    .whereNotNull('task_state')
    .whereNull('deleted_at')
    .where((w) => {
      w.whereNull('lease_until').orWhere('lease_until', '<', new Date());
    })
    .select('id')
    .limit(limit);
  return rows.map((r) => r.id);
}

// --- block device mappings ---------------------------------------------------

export async function insertBdm(conn: Conn, row: DbBdmRow): Promise<void> {
  await conn('block_device_mappings').insert(row);
}

/** A server's mappings in boot order: boot indexes ascending, then the non-bootable ones by age. */
export async function bdmsOf(conn: Conn, serverId: string): Promise<DbBdmRow[]> {
  return conn<DbBdmRow>('block_device_mappings')
    .where('server_id', serverId)
    .orderByRaw('CASE WHEN boot_index >= 0 THEN boot_index END ASC NULLS LAST, created_at, id');
}

/** The mappings of a page of servers, in one query. */
export async function bdmsOfServers(conn: Conn, serverIds: readonly string[]): Promise<DbBdmRow[]> {
  if (serverIds.length === 0) return [];
  return conn<DbBdmRow>('block_device_mappings')
    .whereIn('server_id', serverIds as string[])
    .orderBy('created_at');
}

export async function findBdm(conn: Conn, serverId: string, volumeId: string): Promise<DbBdmRow | undefined> {
  if (!isUuidLike(volumeId)) return undefined;
  return conn<DbBdmRow>('block_device_mappings').where({ server_id: serverId, volume_id: volumeId }).first();
}

export async function bdmsOfVolume(conn: Conn, volumeId: string): Promise<DbBdmRow[]> {
  return conn<DbBdmRow>('block_device_mappings').where('volume_id', volumeId);
}

export async function updateBdm(
  conn: Conn,
  id: string,
  fields: Partial<Omit<DbBdmRow, 'id' | 'server_id' | 'project_id' | 'created_at'>>,
): Promise<void> {
  await conn('block_device_mappings')
    .where('id', id)
    .update({ ...fields, updated_at: new Date() });
}

export async function removeBdm(conn: Conn, id: string): Promise<void> {
  await conn('block_device_mappings').where('id', id).delete().returning('id');
}

/** Every Cinder attachment made for a server, whatever its state. */
export async function attachmentsOfServer(conn: Conn, serverId: string): Promise<DbAttachmentRow[]> {
  return conn<DbAttachmentRow>('volume_attachments').where('instance_uuid', serverId).orderBy('created_at');
}
