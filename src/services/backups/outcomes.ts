import { statusFromAttachments, TaskKind } from '../../domain/status';
import { BackupTransitions, SnapshotBackupTransitions, VolumeBackupTransitions, volumeBackupEnded } from '../../domain/status/backup';
import * as attachmentsDb from '../../db/attachments';
import * as backupsDb from '../../db/backups';
import type { Tx } from '../../db/connection';
import type { DbTaskRow } from '../../db/tasks';
import * as volumesDb from '../../db/volumes';
import { MessageEvent } from '../messages/messages';
import { backupStatus, snapshotStatus, volumeStatus } from '../status/columns';
import { moveIfStill } from '../status/move';

/** What the backup service reports of a finished backup. */
export interface BackupWritten {
  /** Objects this backup stored (chunks it wrote, plus its metadata object). */
  readonly objectCount: number;
}

/** What a finished restore reports: where the volume is, and the volume facts the backup carried. */
export interface BackupRestored {
  readonly location: string | null;
  readonly bootable?: boolean;
  readonly imageMetadata?: Record<string, string> | null;
  /** The backed-up volume's metadata, merged into the restored volume's (Cinder restores it with the data). */
  readonly metadata?: Record<string, string>;
}

/** The backup's source is done being read: a snapshot is available again, a volume what its attachments say. */
async function sourceReleased(trx: Tx, task: DbTaskRow): Promise<void> {
  if (task.payload.snapshot_id) {
    await moveIfStill(trx, snapshotStatus, String(task.payload.snapshot_id), SnapshotBackupTransitions.ended);
    return;
  }
  const volumeId = String(task.payload.volume_id);
  const rows = await attachmentsDb.ofVolume(trx, volumeId);
  await moveIfStill(trx, volumeStatus, volumeId, volumeBackupEnded(statusFromAttachments(rows.map((r) => r.attach_status)).status));
}

/** Inside the transaction that completes the task (as every outcome); a backup force-deleted meanwhile moves nothing. */
export async function backupCreated(trx: Tx, task: DbTaskRow, r: BackupWritten): Promise<void> {
  await moveIfStill(trx, backupStatus, task.resource_id, BackupTransitions.createDone, { object_count: r.objectCount });
  await sourceReleased(trx, task);
}

export async function backupRemoved(trx: Tx, backupId: string): Promise<void> {
  await backupsDb.remove(trx, backupId);
}

export async function backupImported(trx: Tx, backupId: string, r: BackupWritten): Promise<void> {
  await moveIfStill(trx, backupStatus, backupId, BackupTransitions.createDone, { object_count: r.objectCount });
}

export async function backupRestored(trx: Tx, task: DbTaskRow, r: BackupRestored): Promise<void> {
  await moveIfStill(trx, backupStatus, task.resource_id, BackupTransitions.restoreEnded);
  const current = await volumesDb.find(trx, String(task.payload.volume_id), { projectId: undefined });
  await moveIfStill(trx, volumeStatus, String(task.payload.volume_id), VolumeBackupTransitions.restoreDone, {
    ...(r.metadata && Object.keys(r.metadata).length ? { metadata: { ...current?.metadata, ...r.metadata } } : {}),
    ...(r.location !== null ? { provider_location: r.location } : {}),
    ...(task.payload.new_volume ? { launched_at: new Date() } : {}),
    ...(r.bootable !== undefined ? { bootable: r.bootable } : {}),
    ...(r.imageMetadata ? { image_metadata: r.imageMetadata } : {}),
  });
}

/** User messages of failed backup tasks (merged into taskOutcomes' table), on the backup (`VOLUME_BACKUP`). */
export const BACKUP_FAILURE_EVENTS: Readonly<Record<string, MessageEvent>> = {
  [TaskKind.backupCreate]: MessageEvent.createBackup,
  [TaskKind.backupDelete]: MessageEvent.deleteBackup,
  [TaskKind.backupRestore]: MessageEvent.restoreBackup,
  [TaskKind.backupImport]: MessageEvent.importBackup,
};

/**
 * A backup task that will not succeed (`backup/manager.py`): a create or
 * import leaves the backup in `error` with the reason, its source released;
 * a delete `error_deleting`; a restore gives the backup back (available)
 * and leaves the volume `error_restoring` (`error` when it was being made).
 */
export async function backupTaskFailed(trx: Tx, task: DbTaskRow, reason: string): Promise<void> {
  const failReason = reason.slice(0, 255);
  switch (task.kind) {
    case TaskKind.backupCreate: {
      await moveIfStill(trx, backupStatus, task.resource_id, BackupTransitions.createFailed, { fail_reason: failReason });
      await sourceReleased(trx, task);
      break;
    }
    case TaskKind.backupImport: {
      await moveIfStill(trx, backupStatus, task.resource_id, BackupTransitions.createFailed, { fail_reason: failReason });
      break;
    }
    case TaskKind.backupDelete: {
      await moveIfStill(trx, backupStatus, task.resource_id, BackupTransitions.deleteFailed, { fail_reason: failReason });
      break;
    }
    case TaskKind.backupRestore: {
      await moveIfStill(trx, backupStatus, task.resource_id, BackupTransitions.restoreEnded);
      const volumeId = String(task.payload.volume_id);
      for (const t of [VolumeBackupTransitions.restoreFailed, VolumeBackupTransitions.createFromBackupFailed]) {
        await moveIfStill(trx, volumeStatus, volumeId, t);
      }
      break;
    }
    default:
      break;
  }
}
