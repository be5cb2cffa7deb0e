/** Task rows: their kinds and states (the outbox and its workers). */

export const TaskState = {
  pending: 'pending',
  running: 'running',
  done: 'done',
  failed: 'failed',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** What a task does, as stored in `tasks.kind`. */
export const TaskKind = {
  volumeCreate: 'volume.create',
  volumeDelete: 'volume.delete',
  volumeAttach: 'volume.attach',
  volumeDetach: 'volume.detach',
  volumeExtend: 'volume.extend',
  volumeRevert: 'volume.revert',
  volumeUploadImage: 'volume.upload_image',
  snapshotCreate: 'snapshot.create',
  snapshotDelete: 'snapshot.delete',
  serverRemove: 'server.remove',
  /** Nova's swap: the old volume's data onto the new one, then the new one in its place (services/volumes/swap.ts). */
  volumeSwap: 'volume.swap',
  /** `cairn-manage reconcile`: what the backend holds on disk, and with `repair` the fixes (services/reconcile/). */
  backendReconcile: 'backend.reconcile',
  /** Backups: run by the backup service (`cairn backup-worker`), whose queue is BACKUP_QUEUE (services/backups/backups.ts). */
  backupCreate: 'backup.create',
  backupDelete: 'backup.delete',
  backupRestore: 'backup.restore',
  backupImport: 'backup.import',
} as const;
export type TaskKind = (typeof TaskKind)[keyof typeof TaskKind];
