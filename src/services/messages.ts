import { randomUUID } from 'node:crypto';
import type { Conn } from '../db/connection';
import * as messagesDb from '../db/messages';

/**
 * User-visible messages about failed asynchronous work (Cinder's
 * `cinder/message/message_field.py`: an action and a detail make the text).
 */
export const MessageEvent = {
  // Cinder's own action ids (message_field.Action) where Cinder has the action.
  scheduleAllocateVolume: { event: 'VOLUME_VOLUME_001_002', action: 'schedule allocate volume' },
  attachVolume: { event: 'VOLUME_VOLUME_002_001', action: 'attach volume' },
  copyVolumeToImage: { event: 'VOLUME_VOLUME_003_001', action: 'copy volume to image' },
  copyImageToVolume: { event: 'VOLUME_VOLUME_005_001', action: 'copy image to volume' },
  extendVolume: { event: 'VOLUME_VOLUME_007_001', action: 'extend volume' },
  createVolume: { event: 'VOLUME_VOLUME_008_001', action: 'create volume from backend storage' },
  createSnapshot: { event: 'VOLUME_VOLUME_SNAPSHOT_009_001', action: 'create snapshot' },
  deleteSnapshot: { event: 'VOLUME_VOLUME_SNAPSHOT_010_001', action: 'delete snapshot' },
  // Backups (message_field.Action BACKUP_CREATE/DELETE/RESTORE with the driver-error details).
  createBackup: { event: 'VOLUME_VOLUME_BACKUP_013_020', action: 'create backup' },
  deleteBackup: { event: 'VOLUME_VOLUME_BACKUP_014_025', action: 'delete backup' },
  restoreBackup: { event: 'VOLUME_VOLUME_BACKUP_015_026', action: 'restore backup' },
  // cairn's own actions (Cinder's manager only logs these): ids from 101, clear of Cinder's range.
  deleteVolume: { event: 'VOLUME_VOLUME_101_001', action: 'delete volume' },
  detachVolume: { event: 'VOLUME_VOLUME_102_001', action: 'detach volume' },
  revertVolume: { event: 'VOLUME_VOLUME_103_001', action: 'revert volume to snapshot' },
  // `cairn-manage reconcile --repair` found the volume's data gone from its backend.
  reconcileVolume: { event: 'VOLUME_VOLUME_104_001', action: 'check volume data' },
  importBackup: { event: 'VOLUME_VOLUME_BACKUP_105_001', action: 'import backup record' },
} as const;
export type MessageEvent = (typeof MessageEvent)[keyof typeof MessageEvent];

/** Messages are kept this long (Cinder's `message_ttl`, 30 days). */
const MESSAGE_TTL_MS = 30 * 24 * 3600 * 1000;

export async function recordMessage(conn: Conn, m: {
  projectId: string; requestId: string | null; resourceType: string; resourceId: string;
  event: MessageEvent; detail: string;
}): Promise<void> {
  const now = new Date();
  await messagesDb.insert(conn, {
    id: randomUUID(), project_id: m.projectId, request_id: m.requestId, resource_type: m.resourceType,
    resource_uuid: m.resourceId, event_id: m.event.event, message_level: 'ERROR',
    user_message: `${m.event.action}: ${m.detail}`, created_at: now, expires_at: new Date(now.getTime() + MESSAGE_TTL_MS),
  });
}
