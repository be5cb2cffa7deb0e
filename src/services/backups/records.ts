/**
 * The pieces of the backup service the API side shares: where backup tasks
 * go, where a backup's data lives, the export/import record, and the
 * volume a restore makes when it is given none.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config';
import { badRequest, invalidInput, invalidVolume } from '../../domain/errors';
import { isUuidLike } from '../../domain/ids';
import { AttachStatus, type VolumeStatus } from '../../domain/status';
import { BackupStatus } from '../../domain/status/backup';
import type { Tx } from '../../db/connection';
import type { DbBackupRow } from '../../db/backups';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import type { RequestContext } from '../../domain/context';
import { refuseEncryptedType } from '../types/encryption';
import { checkExtStorageSpecs } from '../backends/extstorage';
import { placeVolume } from '../backends/placement';
import { chargeQuota } from '../quotas/quotas';
import { resolveTypeForNewVolume } from '../types/volumeTypes';

/** The task queue (routing key) of the backup service, Cinder's `cinder-backup` topic; no volume backend may be named so. */
export const BACKUP_QUEUE = 'cinder-backup';
/** What `export_record` names as the service (Tempest checks it starts with `cinder.backup.drivers`). */
export const BACKUP_SERVICE_NAME = 'cinder.backup.drivers.posix.PosixBackupDriver';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * A backup's folder below `CAIRN_BACKUP_DIR`: `<container>/<backup id>`
 * (container `default` when none is given). A container is one or more
 * plain path segments, never `..` or an absolute path.
 */
export function backupFolder(container: string | null, id: string): string {
  const c = container === null || container === '' ? 'default' : container;
  if (c.length > 255 || !c.split('/').every((s) => SEGMENT.test(s))) {
    throw invalidInput(`Invalid container name ${container}: use letters, digits, '_', '-', '.' and '/' between parts.`);
  }
  return `${c}/${id}`;
}

/** The exported record: the row's fields Cinder's `Backup.encode_record` carries, base64 of JSON. */
export function encodeBackupRecord(b: DbBackupRow): string {
  const rec = {
    id: b.id,
    volume_id: b.volume_id,
    snapshot_id: b.snapshot_id,
    parent_id: b.parent_id,
    display_name: b.display_name,
    display_description: b.display_description,
    container: b.container,
    availability_zone: b.availability_zone,
    size: b.size,
    object_count: b.object_count,
    is_incremental: b.is_incremental,
    service_metadata: b.service_metadata,
    data_timestamp: b.data_timestamp,
    user_id: b.user_id,
    project_id: b.project_id,
    status: b.status,
    service: BACKUP_SERVICE_NAME,
  };
  return Buffer.from(JSON.stringify(rec), 'utf8').toString('base64');
}

export interface ImportedRecord {
  id: string;
  size: number;
  volume_id: string;
  snapshot_id: string | null;
  parent_id: string | null;
  display_name: string | null;
  display_description: string | null;
  container: string | null;
  availability_zone: string | null;
  object_count: number;
  is_incremental: boolean;
  service_metadata: string;
  data_timestamp: Date | null;
}

const IMPORT_VOLUME_ID = '00000000-0000-0000-0000-000000000000';
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Decodes `backup_url` (Cinder's `decode_record`): an id and a size are required; the folder must be a backup folder. */
export function decodeBackupRecord(url: string): ImportedRecord {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(Buffer.from(url, 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidInput("Can't parse backup record.");
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw invalidInput("Can't parse backup record.");
  if (!('id' in rec)) throw invalidInput('Provided backup record is missing an id');
  if (!('size' in rec)) throw invalidInput('Provided backup record is missing size attribute');
  const id = str(rec.id);
  if (!id || !isUuidLike(id)) throw invalidInput(`Invalid backup id ${String(rec.id)}.`);
  const size = Number(rec.size);
  if (!Number.isInteger(size) || size < 1) throw invalidInput(`Invalid backup size ${String(rec.size)}.`);
  const folder = str(rec.service_metadata);
  const parts = folder?.split('/') ?? [];
  // The folder ends in the id of the backup that wrote it; the container part is checked like a new one's.
  if (!folder || parts.length < 2 || !isUuidLike(parts[parts.length - 1]!))
    throw badRequest('Invalid backup: Backup record has no backup data location.');
  backupFolder(parts.slice(0, -1).join('/'), parts[parts.length - 1]!);
  const ts = str(rec.data_timestamp);
  return {
    id,
    size,
    volume_id: str(rec.volume_id) && isUuidLike(String(rec.volume_id)) ? String(rec.volume_id) : IMPORT_VOLUME_ID,
    snapshot_id: str(rec.snapshot_id),
    parent_id: str(rec.parent_id),
    display_name: str(rec.display_name),
    display_description: str(rec.display_description),
    container: str(rec.container),
    availability_zone: str(rec.availability_zone),
    object_count: Number(rec.object_count) || 0,
    is_incremental: rec.is_incremental === true,
    service_metadata: folder,
    data_timestamp: ts && !Number.isNaN(Date.parse(ts)) ? new Date(ts) : null,
  };
}

/**
 * A new volume of the default type for a restore (or a volume create from
 * a backup): charged to the caller's project and placed as any new volume,
 * in the caller's transaction. No backend for the type is Cinder's 400.
 */
export async function newVolumeForRestore(
  trx: Tx,
  config: Config,
  ctx: RequestContext,
  o: {
    size: number;
    name: string | null;
    description: string | null;
    status: VolumeStatus;
    typeNameOrId?: string;
    metadata?: Record<string, string>;
  },
): Promise<DbVolumeRow> {
  const type = await resolveTypeForNewVolume(trx, ctx, o.typeNameOrId);
  await refuseEncryptedType(trx, type);
  await chargeQuota(trx, ctx.projectId, { resource: 'volumes', volumes: 1, gigabytes: o.size, perVolumeSize: o.size, volumeType: type });
  const placement = placeVolume(config, type.extraSpecs);
  if (!placement.ok) throw invalidVolume(`Error while creating a volume for the restore: ${placement.reason}.`);
  await checkExtStorageSpecs(trx, config, placement.backend, type.extraSpecs);
  const row: DbVolumeRow = {
    id: randomUUID(),
    project_id: ctx.projectId,
    user_id: ctx.userId,
    display_name: o.name,
    display_description: o.description,
    size: o.size,
    status: o.status,
    attach_status: AttachStatus.detached,
    availability_zone: config.availabilityZone,
    volume_type_id: type.id,
    snapshot_id: null,
    source_volid: null,
    bootable: false,
    multiattach: placement.multiattach,
    host: placement.host,
    backend: placement.backend,
    provider_location: null,
    metadata: o.metadata ?? {},
    admin_metadata: {},
    created_at: new Date(),
    updated_at: null,
    launched_at: null,
  };
  await volumesDb.insert(trx, row);
  return row;
}

/** The row of an imported record: `creating` (the backup service looks for its metadata object), in the caller's project. */
export function importedRow(rec: ImportedRecord, ctx: RequestContext, now: Date): DbBackupRow {
  return {
    id: rec.id,
    project_id: ctx.projectId,
    user_id: ctx.userId,
    volume_id: rec.volume_id,
    snapshot_id: rec.snapshot_id,
    parent_id: rec.parent_id,
    display_name: rec.display_name,
    display_description: rec.display_description,
    container: rec.container,
    availability_zone: rec.availability_zone,
    status: BackupStatus.creating,
    fail_reason: null,
    size: rec.size,
    object_count: rec.object_count,
    is_incremental: rec.is_incremental,
    service_metadata: rec.service_metadata,
    restore_volume_id: null,
    metadata: {},
    data_timestamp: rec.data_timestamp ?? now,
    created_at: now,
    updated_at: null,
  };
}
