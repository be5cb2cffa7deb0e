/**
 * Backup statuses and their moves, and the volume's and snapshot's side of a
 * backup or restore: the state machine's backup part (the other files of
 * src/domain/status/ hold the rest).
 */
import { createAndDelete, type Transition } from './transition';
import { SnapshotStatus } from './snapshot';
import { VolumeStatus } from './volume';

const V = VolumeStatus;
const S = SnapshotStatus;

/** Backup statuses (`cinder/objects/fields.py:BackupStatus`). */
export const BackupStatus = {
  error: 'error',
  errorDeleting: 'error_deleting',
  creating: 'creating',
  available: 'available',
  deleting: 'deleting',
  deleted: 'deleted',
  restoring: 'restoring',
} as const;
export type BackupStatus = (typeof BackupStatus)[keyof typeof BackupStatus];
export const ALL_BACKUP_STATUSES: readonly BackupStatus[] = Object.values(BackupStatus);

const B = BackupStatus;

/**
 * A backup is `creating` until the backup service wrote its chunks and its
 * metadata object; only an available or error one may be deleted (any with
 * `os-force_delete`); a restore takes it `restoring` and back to available
 * whatever the outcome (`backup/manager.py:restore_backup`).
 */
export const BackupTransitions = {
  ...createAndDelete(B),
  forceDelete: { name: 'force-delete', from: ALL_BACKUP_STATUSES.filter((s) => s !== B.deleted), to: B.deleting },
  restore: { name: 'restore', from: [B.available], to: B.restoring },
  restoreEnded: { name: 'restore-ended', from: [B.restoring], to: B.available },
} satisfies Record<string, Transition<BackupStatus>>;

/** `os-reset_status` of a backup (admin): Cinder's `backup_status` format accepts only these. */
export const BACKUP_RESET_TARGETS: readonly BackupStatus[] = [B.available, B.error];

/** Volume statuses a backup may be taken of: available, or in-use with `force` (`backup/api.py:create`). */
export const BACKUP_SOURCE: readonly VolumeStatus[] = [V.available];
export const BACKUP_SOURCE_IN_USE: readonly VolumeStatus[] = [V.available, V.inUse];

/**
 * The volume side: `backing-up` while its data is read, then what its
 * attachments say; `restoring-backup` while a backup is written onto it
 * (a volume made for the restore too; `creating` for one made by a volume
 * create from a backup, 3.47), then available, or `error_restoring`
 * (`error` for the one being created) when the restore fails.
 */
export const VolumeBackupTransitions = {
  beginBackup: { name: 'backup', from: [V.available], to: V.backingUp },
  beginBackupInUse: { name: 'backup', from: [V.available, V.inUse], to: V.backingUp },
  beginRestore: { name: 'restore-backup', from: [V.available], to: V.restoringBackup },
  restoreDone: { name: 'restore-backup-done', from: [V.restoringBackup, V.creating], to: V.available },
  restoreFailed: { name: 'restore-backup-failed', from: [V.restoringBackup], to: V.errorRestoring },
  createFromBackupFailed: { name: 'create-from-backup-failed', from: [V.creating], to: V.error },
} satisfies Record<string, Transition<VolumeStatus>>;

/** The volume's data is read: back to what its attachments say (`statusFromAttachments`), known only then. */
export const volumeBackupEnded = (to: VolumeStatus): Transition<VolumeStatus> => ({ name: 'backup-ended', from: [V.backingUp], to });

/** The snapshot side of a backup taken from a snapshot (`backing-up`, then available again). */
export const SnapshotBackupTransitions = {
  begin: { name: 'backup', from: [S.available], to: S.backingUp },
  ended: { name: 'backup-ended', from: [S.backingUp], to: S.available },
} satisfies Record<string, Transition<SnapshotStatus>>;
