import { statusFromAttachments, VolumeSettleTransitions, VolumeTransitions, VOLUME_FAILURE_BY_TASK, TaskKind } from '../../domain/status';
import { randomUUID } from 'node:crypto';
import * as attachmentsDb from '../../db/attachments';
import * as instanceActionsDb from '../../db/instanceActions';
import type { Knex } from 'knex';
import type { Conn, Tx } from '../../db/connection';
import type { DbTaskRow } from '../../db/tasks';
import * as volumesDb from '../../db/volumes';
import { MessageDetail, MessageEvent, recordMessage, type MessageDetailName } from '../messages/messages';
import { attachmentFailed } from '../attachments/state';
import { SNAPSHOT_FAILURE_EVENTS, snapshotTaskFailed } from '../snapshots/outcomes';
import { BACKUP_FAILURE_EVENTS, backupTaskFailed } from '../backups/outcomes';
import { volumeUploadEnded } from '../volumes/upload';
import { swapFailed } from '../volumes/swap';
import { volumeStatus } from '../status/columns';
import { moveIfStill, moveIfStillQuery } from '../status/move';

/**
 * What a finished or failed task writes to the database. Workers call these
 * inside the transaction that also completes the task, so an outcome is
 * recorded exactly once with its task.
 */
export async function volumeCreated(trx: Tx, volumeId: string, location: string): Promise<void> {
  await volumeCreatedQuery(trx, volumeId, location);
}

/** volumeCreated as one UPDATE, for the statement that completes the task. */
export function volumeCreatedQuery(conn: Conn, volumeId: string, location: string): Knex.QueryBuilder {
  // No row moved: the volume was force-deleted meanwhile; its delete task cleans up.
  return moveIfStillQuery(conn, volumeStatus, volumeId, VolumeTransitions.createDone, {
    provider_location: location,
    launched_at: new Date(),
  });
}

/** The backend grew the volume: the pending size becomes the size; the status goes back to what its attachments say. */
export async function volumeExtended(trx: Tx, volumeId: string, newSize: number): Promise<void> {
  const rows = await attachmentsDb.ofVolume(trx, volumeId);
  const moved = await moveIfStill(
    trx,
    volumeStatus,
    volumeId,
    VolumeSettleTransitions.extendDone(statusFromAttachments(rows.map((r) => r.attach_status)).status),
    { size: newSize, pending_size: null },
  );
  if (!moved) return;
  // Cinder tells Nova (`volume-extended` external event); Nova records an `extend_volume` action on each server the
  // volume is attached to, which clients (Tempest) wait on before they look inside the guest.
  const serverIds = [...new Set(rows.map((r) => r.instance_uuid).filter((id): id is string => Boolean(id)))];
  if (!serverIds.length) return;
  for (const s of await trx<{ id: string; project_id: string; user_id: string }>('servers')
    .whereIn('id', serverIds)
    .whereNull('deleted_at')) {
    await instanceActionsDb.record(trx, {
      serverId: s.id,
      projectId: s.project_id,
      userId: s.user_id,
      requestId: `req-${randomUUID()}`,
      action: 'extend_volume',
      event: 'compute_extend_volume',
    });
  }
}

export async function volumeRemoved(trx: Tx, volumeId: string): Promise<void> {
  await volumesDb.remove(trx, volumeId);
}

const FAILURE_EVENTS: Readonly<Record<string, MessageEvent>> = {
  [TaskKind.volumeCreate]: MessageEvent.createVolume,
  [TaskKind.volumeDelete]: MessageEvent.deleteVolume,
  [TaskKind.volumeAttach]: MessageEvent.attachVolume,
  [TaskKind.volumeDetach]: MessageEvent.detachVolume,
  [TaskKind.volumeExtend]: MessageEvent.extendVolume,
  [TaskKind.volumeUploadImage]: MessageEvent.copyVolumeToImage,
  ...SNAPSHOT_FAILURE_EVENTS,
  ...BACKUP_FAILURE_EVENTS,
};

/** The fixed user-message detail of a failed task kind, unless the failure names its own. */
const FAILURE_DETAILS: Readonly<Record<string, MessageDetail>> = {
  [TaskKind.volumeExtend]: MessageDetail.driverFailedExtend,
  [TaskKind.volumeUploadImage]: MessageDetail.failedToUploadVolume,
  [TaskKind.backupCreate]: MessageDetail.backupCreateDriverError,
  [TaskKind.backupDelete]: MessageDetail.backupDeleteDriverError,
  [TaskKind.backupRestore]: MessageDetail.backupRestoreError,
};

/** A DriverError's `userDetail` name as a detail (own keys only), else the task kind's. */
export function failureDetail(kind: string, name: string | undefined): MessageDetail {
  if (name !== undefined && Object.hasOwn(MessageDetail, name)) return MessageDetail[name as MessageDetailName];
  return Object.hasOwn(FAILURE_DETAILS, kind) ? FAILURE_DETAILS[kind]! : MessageDetail.driverFailed;
}

/** Cinder's message resource types (`message_field.Resource`) where they differ from the task's. */
const RESOURCE_TYPES: Readonly<Record<string, string>> = { snapshot: 'VOLUME_SNAPSHOT', backup: 'VOLUME_BACKUP' };

/**
 * A task that will not succeed: its resource moves to the error status
 * for that kind of task, and its project gets a user message saying why
 * in fixed words (`detail`); `reason`, the driver's own text, stays in
 * the task row and the log.
 */
export async function taskFailed(trx: Tx, task: DbTaskRow, reason: string, detail = failureDetail(task.kind, undefined)): Promise<void> {
  await snapshotTaskFailed(trx, task);
  if (task.resource_type === 'backup') await backupTaskFailed(trx, task, reason);
  if (task.kind === TaskKind.volumeSwap) await swapFailed(trx, task, reason);
  if (task.kind === TaskKind.volumeAttach || task.kind === TaskKind.volumeDetach) {
    await attachmentFailed(trx, task.resource_id, String(task.payload.attachment_id), task.kind === TaskKind.volumeDetach);
  }
  const transition = VOLUME_FAILURE_BY_TASK[task.kind];
  if (task.resource_type === 'volume' && transition) {
    // A failed extend gives its quota charge (the pending size) back, as Cinder rolls back its reservation.
    const release = task.kind === TaskKind.volumeExtend ? { pending_size: null } : {};
    await moveIfStill(trx, volumeStatus, task.resource_id, transition, release);
  }
  // An upload that failed leaves the volume as its attachments say (Cinder: `volume_update_status_based_on_attachment`).
  if (task.kind === TaskKind.volumeUploadImage) await volumeUploadEnded(trx, task.resource_id);
  const fromImage = task.kind === TaskKind.volumeCreate && (task.payload.source as { kind?: string } | undefined)?.kind === 'image';
  const event = fromImage ? MessageEvent.copyImageToVolume : FAILURE_EVENTS[task.kind];
  if (event && task.project_id) {
    await recordMessage(trx, {
      projectId: task.project_id,
      requestId: task.request_id,
      resourceType: RESOURCE_TYPES[task.resource_type] ?? task.resource_type.toUpperCase(), // Cinder's resource types
      resourceId: task.resource_id,
      event,
      detail,
    });
  }
}
