import { randomUUID } from 'node:crypto';
import type { Conn } from '../../db/connection';
import * as messagesDb from '../../db/messages';

/**
 * User-visible messages about failed asynchronous work, as Cinder's
 * `cinder/message/message_field.py`: an action and a detail, both fixed
 * texts, make the message (`"<action>:<detail>"`) and its event id
 * (`VOLUME_<resource>_<action id>_<detail id>`). Free-form text never
 * reaches `/v3/messages` — no storage paths, no provider output: the
 * driver's own words go into the task row (`last_error`) and the log.
 */
export const MessageEvent = {
  // Cinder's own action ids (message_field.Action) where Cinder has the action.
  scheduleAllocateVolume: { event: 'VOLUME_VOLUME_001', action: 'schedule allocate volume' },
  attachVolume: { event: 'VOLUME_VOLUME_002', action: 'attach volume' },
  copyVolumeToImage: { event: 'VOLUME_VOLUME_003', action: 'copy volume to image' },
  copyImageToVolume: { event: 'VOLUME_VOLUME_005', action: 'copy image to volume' },
  extendVolume: { event: 'VOLUME_VOLUME_007', action: 'extend volume' },
  createVolume: { event: 'VOLUME_VOLUME_008', action: 'create volume from backend storage' },
  createSnapshot: { event: 'VOLUME_VOLUME_SNAPSHOT_009', action: 'create snapshot' },
  deleteSnapshot: { event: 'VOLUME_VOLUME_SNAPSHOT_010', action: 'delete snapshot' },
  // Backups (message_field.Action BACKUP_CREATE, BACKUP_DELETE, BACKUP_RESTORE).
  createBackup: { event: 'VOLUME_VOLUME_BACKUP_013', action: 'create backup' },
  deleteBackup: { event: 'VOLUME_VOLUME_BACKUP_014', action: 'delete backup' },
  restoreBackup: { event: 'VOLUME_VOLUME_BACKUP_015', action: 'restore backup' },
  // cairn's own actions (Cinder's manager only logs these): ids from 101, clear of Cinder's range.
  deleteVolume: { event: 'VOLUME_VOLUME_101', action: 'delete volume' },
  detachVolume: { event: 'VOLUME_VOLUME_102', action: 'detach volume' },
  revertVolume: { event: 'VOLUME_VOLUME_103', action: 'revert volume to snapshot' },
  // `cairn-manage reconcile --repair` found the volume's data gone from its backend.
  reconcileVolume: { event: 'VOLUME_VOLUME_104', action: 'check volume data' },
  importBackup: { event: 'VOLUME_VOLUME_BACKUP_105', action: 'import backup record' },
} as const;
export type MessageEvent = (typeof MessageEvent)[keyof typeof MessageEvent];

/** Cinder's `message_field.Detail` texts (ids 001–011), and cairn's own from 101. */
export const MessageDetail = {
  unknownError: { id: '001', text: 'An unknown error occurred.' },
  noBackendAvailable: { id: '003', text: 'Could not find any available weighted backend.' },
  failedToUploadVolume: { id: '004', text: 'Failed to upload volume to image at backend.' },
  quotaExceed: { id: '006', text: 'Not enough quota resource for operation.' },
  driverFailedExtend: { id: '010', text: 'Volume Driver failed to extend volume.' },
  backupCreateDriverError: { id: '022', text: 'Backup driver failed to create backup.' },
  backupDeleteDriverError: { id: '027', text: 'Backup driver failed to delete backup.' },
  backupRestoreError: { id: '028', text: 'Backup driver failed to restore backup.' },
  driverFailed: { id: '101', text: 'The storage backend failed to complete the operation.' },
  sourceDataMissing: { id: '102', text: 'The data to copy is missing from the storage backend.' },
  imageFormatUnsupported: { id: '103', text: 'The image format cannot be copied into a volume; only raw images can.' },
  volumeDataMissing: { id: '104', text: "The volume's data is missing from its storage backend; the volume cannot be used." },
  swapFailed: { id: '105', text: 'The volume swap failed.' },
  imageUnavailable: { id: '106', text: 'The image could not be read.' },
} as const;
export type MessageDetail = (typeof MessageDetail)[keyof typeof MessageDetail];
export type MessageDetailName = keyof typeof MessageDetail;

/** Messages are kept this long (Cinder's `message_ttl`, 30 days). */
const MESSAGE_TTL_MS = 30 * 24 * 3600 * 1000;

export async function recordMessage(
  conn: Conn,
  m: {
    projectId: string;
    requestId: string | null;
    resourceType: string;
    resourceId: string;
    event: MessageEvent;
    detail: MessageDetail;
  },
): Promise<void> {
  const now = new Date();
  await messagesDb.insert(conn, {
    id: randomUUID(),
    project_id: m.projectId,
    request_id: m.requestId,
    resource_type: m.resourceType,
    resource_uuid: m.resourceId,
    event_id: `${m.event.event}_${m.detail.id}`,
    message_level: 'ERROR',
    user_message: `${m.event.action}:${m.detail.text}`,
    created_at: now,
    expires_at: new Date(now.getTime() + MESSAGE_TTL_MS),
  });
}
