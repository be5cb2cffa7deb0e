import {
  AttachmentTransitions,
  AttachStatus,
  statusFromAttachments,
  VolumeSettleTransitions,
  VolumeStatus,
  VolumeTransitions,
} from '../../domain/status';
import type { Tx } from '../../db/connection';
import * as attachmentsDb from '../../db/attachments';
import * as volumesDb from '../../db/volumes';
import { attachmentStatus, volumeStatus } from '../status/columns';
import { moveIfStill } from '../status/move';

/**
 * Sets a volume's status and attach_status to what its attachment rows
 * imply, unless the volume is busy with something else (deleting,
 * extending…). Called in the transaction that changed an attachment.
 */
export async function settleVolumeStatus(trx: Tx, volumeId: string): Promise<void> {
  const rows = await attachmentsDb.ofVolume(trx, volumeId);
  const { status, attachStatus } = statusFromAttachments(rows.map((r) => r.attach_status));
  await moveIfStill(trx, volumeStatus, volumeId, VolumeSettleTransitions.attachmentsChanged(status), { attach_status: attachStatus });
}

/** Cinder's attachment connection_info: the driver's data, flattened, with the attachment id. */
export function connectionInfo(attachmentId: string, mode: 'rw' | 'ro', driverVolumeType: string, devicePath: string) {
  return {
    driver_volume_type: driverVolumeType,
    device_path: devicePath,
    access_mode: mode,
    qos_specs: null,
    encrypted: false,
    cacheable: false,
    attachment_id: attachmentId,
  };
}

export interface AttachPayload {
  attachment_id: string;
  server_id: string;
  mode: 'rw' | 'ro';
  multiattach: boolean;
  provider_location: string | null;
  /** Legacy `os-attach`: the attachment is complete once connected. */
  complete: boolean;
  /** `os-force_detach`: the volume may be in any status (an admin's reset to error, say). */
  forced?: boolean;
}

/** Worker outcome of `volume.attach`: the data moved (or not) and is reachable at `devicePath`. */
export async function volumeConnected(
  trx: Tx,
  volumeId: string,
  p: AttachPayload,
  r: { location: string; devicePath: string; driverVolumeType: string },
): Promise<void> {
  await volumesDb.update(trx, volumeId, { provider_location: r.location });
  const info = connectionInfo(p.attachment_id, p.mode, r.driverVolumeType, r.devicePath);
  if (p.complete) {
    await moveIfStill(trx, attachmentStatus, p.attachment_id, AttachmentTransitions.complete, {
      connection_info: info,
      attach_time: new Date(),
    });
    await settleVolumeStatus(trx, volumeId);
  } else {
    await attachmentsDb.update(trx, p.attachment_id, { connection_info: info });
  }
}

/** Worker outcome of `volume.detach`: the attachment is gone and the data is back at the top level. */
export async function volumeDisconnected(trx: Tx, volumeId: string, attachmentId: string, location: string, forced = false): Promise<void> {
  await volumesDb.update(trx, volumeId, { provider_location: location });
  await attachmentsDb.remove(trx, attachmentId);
  await settleVolumeStatus(trx, volumeId);
  if (forced) await forcedDetachSettled(trx, volumeId);
}

/**
 * Cinder's `volume_detached` after a force-detach: the last attachment gone, the volume is available whatever
 * its status was (an admin's reset to error, say).
 */
export async function forcedDetachSettled(trx: Tx, volumeId: string): Promise<void> {
  if ((await attachmentsDb.ofVolume(trx, volumeId)).length) return;
  await moveIfStill(trx, volumeStatus, volumeId, VolumeTransitions.detachedFromError, { attach_status: AttachStatus.detached });
}

/** A connect or disconnect that will not succeed: mark the attachment and settle the volume. */
export async function attachmentFailed(trx: Tx, volumeId: string, attachmentId: string, detaching: boolean): Promise<void> {
  const t = detaching ? AttachmentTransitions.detachFailed : AttachmentTransitions.connectFailed;
  await moveIfStill(trx, attachmentStatus, attachmentId, t);
  await settleVolumeStatus(trx, volumeId);
}

export type { VolumeStatus };
