import { randomUUID } from 'node:crypto';
import { badRequest, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import { VolumeStatus, TaskKind } from '../../domain/status';
import {
  BACKUP_RESET_TARGETS,
  BACKUP_SOURCE,
  BACKUP_SOURCE_IN_USE,
  BackupStatus,
  BackupTransitions,
  SnapshotBackupTransitions,
  VolumeBackupTransitions,
  ALL_BACKUP_STATUSES,
} from '../../domain/status/backup';
import type { Tx } from '../../db/connection';
import * as backupsDb from '../../db/backups';
import type { DbBackupRow, DbBackupView } from '../../db/backups';
import * as snapshotsDb from '../../db/snapshots';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { volumeDriverPayload } from '../backends/extstorage';
import { parseBool, parsePaging, type ListRules, type Paging, type RawQuery } from '../listQuery';
import { BACKUP_SORT_COLUMNS, backupFilters } from './listFilters';
import { chargeQuota } from '../quotas/quotas';
import { enqueue } from '../tasks/outbox';
import { scopeOf } from '../../domain/context';
import { scopedRows } from '../scopedRows';
import { resetTransition } from '../../domain/status';
import { backupStatus, snapshotStatus, volumeStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse, refuseUnlessFrom } from '../status/move';
import {
  BACKUP_QUEUE,
  BACKUP_SERVICE_NAME,
  backupFolder,
  decodeBackupRecord,
  encodeBackupRecord,
  importedRow,
  newVolumeForRestore,
} from './records';
import { backupNotFound, invalidBackup, notAvailable, refuseKey, snapshotRefusal } from './refusals';

export interface CreateBackupInput {
  volume_id: string;
  container?: string | null;
  name?: string | null;
  description?: string | null;
  incremental?: boolean | string | null;
  force?: boolean | string | null;
  snapshot_id?: string | null;
  metadata?: Record<string, string> | null;
  availability_zone?: string | null;
}

const backupRows = scopedRows(backupsDb, backupNotFound);

/** Cinder's `strutils.bool_from_string(strict=True)` (the schema already limited the spellings). */
const flag = (v: boolean | string | null | undefined, name: string): boolean =>
  v === undefined || v === null ? false : typeof v === 'boolean' ? v : parseBool(v, name);

/**
 * Backups (`cinder/backup/api.py`): the row, its quota charge and the
 * source's `backing-up` in one transaction with the `backup.create` task,
 * which the backup service runs; restores, deletes and imports the same way.
 */
export class BackupService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  /** 404 unless the backup exists in the caller's scope (an admin sees every project's). */
  async get(ctx: RequestContext, id: string): Promise<DbBackupView> {
    return backupRows.get(this.db, ctx, id);
  }

  /** `keys`: whether the microversion knows `metadata` (3.43) and `availability_zone` (3.51). */
  async create(
    ctx: RequestContext,
    input: CreateBackupInput,
    keys: { metadata: boolean; availabilityZone: boolean },
  ): Promise<DbBackupRow> {
    requireWriter(ctx, 'backup:create');
    const body: object = input;
    if (!keys.metadata && input.metadata !== undefined) refuseKey(body, 'metadata');
    if (!keys.availabilityZone && input.availability_zone !== undefined) refuseKey(body, 'availability_zone');
    const incremental = flag(input.incremental, 'incremental');
    const force = flag(input.force, 'force');
    const az = input.availability_zone ?? null;
    if (az !== null && az !== this.deps.config.availabilityZone) throw invalidInput(`Availability zone '${az}' is invalid.`);
    const id = randomUUID();
    let created: DbBackupRow | undefined;
    await this.db.transaction(async (trx) => {
      // The volume's lock orders this create against the volume's delete and other status moves.
      const vol = await volumesDb.lock(trx, input.volume_id, scopeOf(ctx, true));
      if (!vol) throw notFound(`Volume ${input.volume_id} could not be found.`);
      const snap = input.snapshot_id
        ? await snapshotsDb.lock(trx, input.snapshot_id, { projectId: ctx.isAdmin ? undefined : ctx.projectId })
        : undefined;
      if (input.snapshot_id && !snap) throw notFound(`Snapshot ${input.snapshot_id} could not be found.`);
      if (snap) {
        if (snap.volume_id !== vol.id) throw invalidVolume(`Volume ${vol.id} does not match with snapshot.volume_id ${snap.volume_id}.`);
        refuseUnlessFrom(SnapshotBackupTransitions.begin, snap.status, snapshotRefusal(snap.status));
      } else if (!BACKUP_SOURCE_IN_USE.includes(vol.status as VolumeStatus)) {
        throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${vol.status}".`);
      } else if (!force && !BACKUP_SOURCE.includes(vol.status as VolumeStatus)) {
        throw invalidVolume('Backing up an in-use volume must use the force flag.');
      }
      // Cinder reserves backups: 1 and backup_gigabytes: the volume's size.
      await chargeQuota(trx, ctx.projectId, { resource: 'backups', backups: 1, backup_gigabytes: vol.size });
      const parent = incremental ? await this.parentFor(trx, ctx, vol.id, snap?.created_at) : undefined;
      const now = new Date();
      const container = input.container ?? null;
      created = {
        id,
        project_id: ctx.projectId,
        user_id: ctx.userId,
        volume_id: vol.id,
        snapshot_id: snap?.id ?? null,
        parent_id: parent?.id ?? null,
        display_name: input.name ?? null,
        display_description: input.description ?? null,
        container,
        availability_zone: az,
        status: BackupStatus.creating,
        fail_reason: null,
        size: vol.size,
        object_count: 0,
        is_incremental: Boolean(parent),
        service_metadata: backupFolder(container, id),
        restore_volume_id: null,
        metadata: input.metadata ?? {},
        data_timestamp: snap ? snap.created_at : now,
        created_at: now,
        updated_at: null,
      };
      await backupsDb.insert(trx, created);
      if (snap) {
        await moveOrRefuse(trx, snapshotStatus, snap.id, SnapshotBackupTransitions.begin, snapshotRefusal(snap.status));
      } else {
        const t = force ? VolumeBackupTransitions.beginBackupInUse : VolumeBackupTransitions.beginBackup;
        await moveOrRefuse(trx, volumeStatus, vol.id, t, () => invalidVolume(`Volume ${vol.id} status changed meanwhile.`));
      }
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.backupCreate,
        { type: 'backup', id, backend: BACKUP_QUEUE },
        {
          ...(await this.volumePayload(trx, vol)),
          snapshot_id: snap?.id ?? null,
          snapshot_location: snap?.provider_location ?? null,
          folder: created.service_metadata,
          parent_id: parent?.id ?? null,
          parent_folder: parent?.service_metadata ?? null,
          volume_bootable: vol.bootable,
          volume_metadata: vol.metadata ?? {},
          volume_image_metadata: (vol.image_metadata as Record<string, string> | null | undefined) ?? null,
        },
      );
    });
    this.deps.notifier.tasksWritten();
    return created!;
  }

  /**
   * The parent of an incremental backup: the volume's available backup with
   * the latest data (older than the snapshot, for one from a snapshot); none
   * is Cinder's 400 "No backups available to do an incremental backup."
   */
  private async parentFor(trx: Tx, ctx: RequestContext, volumeId: string, before: Date | undefined): Promise<DbBackupRow> {
    const all = await backupsDb.ofVolume(trx, volumeId, ctx.projectId);
    const parent = all.find((b) => b.status === BackupStatus.available && (!before || (b.data_timestamp ?? b.created_at) < before));
    if (!parent) throw invalidBackup('No backups available to do an incremental backup.');
    return parent;
  }

  /** What a backup task needs to reach a volume's data through its backend's driver. */
  private async volumePayload(trx: Tx, vol: DbVolumeRow): Promise<Record<string, unknown>> {
    return {
      ...(await volumeDriverPayload(trx, this.deps.config, vol.backend, vol.id)),
      volume_id: vol.id,
      volume_backend: vol.backend,
      provider_location: vol.provider_location,
      multiattach: vol.multiattach,
      volume_size: vol.size,
    };
  }

  async list(ctx: RequestContext, q: RawQuery, rules: ListRules): Promise<{ items: DbBackupView[]; paging: Paging; count?: number }> {
    const allTenants = ctx.isAdmin && q.all_tenants !== undefined && parseBool(String(q.all_tenants), 'all_tenants');
    const scope = scopeOf(ctx, allTenants);
    return backupRows.page(this.db, scope, parsePaging(q, BACKUP_SORT_COLUMNS, rules), backupFilters(ctx, q, rules));
  }

  /** `PUT /backups/{id}` (3.9): name, description, and metadata when the microversion knows it (3.43). Answers the summary. */
  async update(
    ctx: RequestContext,
    id: string,
    input: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
    keys: { metadata: boolean },
  ): Promise<DbBackupRow> {
    requireWriter(ctx, 'backup:update');
    if (input.metadata !== undefined && !keys.metadata) refuseKey(input as Record<string, unknown>, 'metadata');
    const fields: Partial<DbBackupRow> = {};
    if (input.name !== undefined) fields.display_name = input.name;
    if (input.description !== undefined) fields.display_description = input.description;
    if (input.metadata !== undefined) fields.metadata = input.metadata;
    await this.get(ctx, id);
    return (await backupsDb.update(this.db, id, fields))!;
  }

  /**
   * Moves the backup to `deleting` and queues the removal of its data.
   * `force` (`os-force_delete`, admin) skips the status condition. A backup
   * that incremental ones were taken against stays (Cinder's rule).
   */
  async delete(ctx: RequestContext, id: string, force = false): Promise<void> {
    requireWriter(ctx, 'backup:delete');
    if (force) requireAdmin(ctx, 'volume_extension:backup_admin_actions:force_delete');
    await this.db.transaction(async (trx) => {
      const b = await backupRows.lock(trx, ctx, id);
      const t = force ? BackupTransitions.forceDelete : BackupTransitions.delete;
      const refuse = () => invalidBackup('Backup status must be available or error');
      refuseUnlessFrom(t, b.status, refuse);
      if ((await backupsDb.children(trx, id)).length) throw invalidBackup('Incremental backups exist for this backup.');
      await moveOrRefuse(trx, backupStatus, id, t, refuse);
      // An imported record shares its folder with the backup it came from: the data goes with the last of them.
      const shared = b.service_metadata ? await backupsDb.sharingFolder(trx, id, b.service_metadata) : [];
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.backupDelete,
        { type: 'backup', id, backend: BACKUP_QUEUE },
        { folder: b.service_metadata, keep_data: shared.length > 0 },
      );
    });
    this.deps.notifier.tasksWritten();
  }

  /**
   * `POST /backups/{id}/restore`: onto an available volume at least as
   * large, or (no `volume_id`) onto a new volume of the backup's size, made
   * in the same transaction (`restoring-backup`) and charged to the project.
   */
  async restore(
    ctx: RequestContext,
    id: string,
    input: { volume_id?: string | null; name?: string | null } | null,
  ): Promise<{ backup_id: string; volume_id: string; volume_name: string | null }> {
    requireWriter(ctx, 'backup:restore');
    let answer: { backup_id: string; volume_id: string; volume_name: string | null } | undefined;
    await this.db.transaction(async (trx) => {
      const b = await backupRows.lock(trx, ctx, id);
      refuseUnlessFrom(BackupTransitions.restore, b.status, notAvailable);
      let vol: DbVolumeRow;
      const isNew = !input?.volume_id;
      if (isNew) {
        vol = await newVolumeForRestore(trx, this.deps.config, ctx, {
          size: b.size,
          name: input?.name ?? `restore_backup_${b.id}`,
          description: 'auto-created_from_restore_from_backup',
          status: VolumeStatus.restoringBackup,
        });
      } else {
        const found = await volumesDb.lock(trx, input!.volume_id!, scopeOf(ctx, true));
        if (!found) throw notFound(`Volume ${input!.volume_id} could not be found.`);
        const t = VolumeBackupTransitions.beginRestore;
        const refuse = () => invalidVolume('Volume to be restored to must be available');
        refuseUnlessFrom(t, found.status, refuse);
        if (b.size > found.size) throw invalidVolume(`volume size ${found.size} is too small to restore backup of size ${b.size}.`);
        await moveOrRefuse(trx, volumeStatus, found.id, t, refuse);
        vol = found;
      }
      await this.queueRestore(trx, ctx, b, vol, isNew);
      answer = { backup_id: b.id, volume_id: vol.id, volume_name: vol.display_name };
    });
    this.deps.notifier.tasksWritten();
    return answer!;
  }

  /**
   * A volume create with `backup_id` (3.47): a new volume (at least the
   * backup's size, `creating`) that the backup service fills from the
   * backup, as Cinder's create flow hands it to `restore_backup`. Inside `outer` when given (VolumeService.create's).
   */
  async createVolume(
    ctx: RequestContext,
    backupId: string,
    input: {
      size?: number;
      name: string | null;
      description: string | null;
      volume_type?: string | null;
      metadata?: Record<string, string> | null;
    },
    outer?: Tx,
  ): Promise<string> {
    let id: string | undefined;
    await (outer ?? this.db).transaction(async (trx) => {
      const b = await backupRows.lock(trx, ctx, backupId);
      refuseUnlessFrom(BackupTransitions.restore, b.status, notAvailable);
      const size = input.size ?? b.size;
      if (size < b.size) throw invalidInput(`Volume size ${size}GB cannot be smaller than the backup size ${b.size}GB.`);
      const vol = await newVolumeForRestore(trx, this.deps.config, ctx, {
        size,
        name: input.name,
        description: input.description,
        status: VolumeStatus.creating,
        typeNameOrId: input.volume_type ?? undefined,
        metadata: input.metadata ?? undefined,
      });
      await this.queueRestore(trx, ctx, b, vol, true);
      id = vol.id;
    });
    // Inside the caller's transaction, the caller tells the relay once it has committed.
    if (!outer) this.deps.notifier.tasksWritten();
    return id!;
  }

  /** The backup goes `restoring` and the backup service is asked to write it onto `vol` (in `trx`). */
  async queueRestore(trx: Tx, ctx: RequestContext, b: DbBackupRow, vol: DbVolumeRow, isNew: boolean): Promise<void> {
    await moveOrRefuse(trx, backupStatus, b.id, BackupTransitions.restore, notAvailable, { restore_volume_id: vol.id });
    await enqueue(
      trx,
      this.deps.config,
      ctx,
      TaskKind.backupRestore,
      { type: 'backup', id: b.id, backend: BACKUP_QUEUE },
      {
        ...(await this.volumePayload(trx, vol)),
        new_volume: isNew,
        folder: b.service_metadata,
      },
    );
  }

  /** `os-reset_status` (admin): available or error only (Cinder's `backup_status` format). */
  async resetStatus(ctx: RequestContext, id: string, status: unknown): Promise<void> {
    requireAdmin(ctx, 'volume_extension:backup_admin_actions:reset_status');
    if (typeof status !== 'string') throw badRequest("Must specify 'status'");
    const target = BACKUP_RESET_TARGETS.find((s) => s === status.toLowerCase());
    if (!target)
      throw badRequest(`Invalid backup: The backup status '${status}' is invalid, it must be one of ${BACKUP_RESET_TARGETS.join(', ')}.`);
    await this.db.transaction(async (trx) => {
      await backupRows.lock(trx, ctx, id);
      await moveIfStill(trx, backupStatus, id, resetTransition(ALL_BACKUP_STATUSES, target));
    });
  }

  /** `GET /backups/{id}/export_record` (admin): the row, encoded, for `import_record`. */
  async exportRecord(ctx: RequestContext, id: string): Promise<{ backup_service: string; backup_url: string }> {
    requireAdmin(ctx, 'backup:export-import');
    const b = await this.get(ctx, id);
    if (b.status !== BackupStatus.available) throw invalidBackup(`Backup status must be available and not ${b.status}.`);
    return { backup_service: BACKUP_SERVICE_NAME, backup_url: encodeBackupRecord(b) };
  }

  /**
   * `POST /backups/import_record` (admin, 201): a row for an exported backup,
   * `creating` until the backup service found its metadata object; charged
   * to the caller's project. An id that exists is Cinder's 400.
   */
  async importRecord(ctx: RequestContext, input: { backup_service: string; backup_url: string }): Promise<DbBackupRow> {
    requireAdmin(ctx, 'backup:export-import');
    if (input.backup_service !== BACKUP_SERVICE_NAME) {
      throw notFound(`Service ${input.backup_service} could not be found.`);
    }
    const rec = decodeBackupRecord(input.backup_url);
    let created: DbBackupRow | undefined;
    await this.db.transaction(async (trx) => {
      if (await backupsDb.exists(trx, rec.id)) throw invalidBackup('Backup already exists in database.');
      await chargeQuota(trx, ctx.projectId, { resource: 'backups', backups: 1, backup_gigabytes: rec.size });
      created = importedRow(rec, ctx, new Date());
      await backupsDb.insert(trx, created);
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.backupImport,
        { type: 'backup', id: rec.id, backend: BACKUP_QUEUE },
        { folder: rec.service_metadata },
      );
    });
    this.deps.notifier.tasksWritten();
    return created!;
  }
}
