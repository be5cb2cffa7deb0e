/**
 * Nova's swap volume (`PUT /servers/{id}/os-volume_attachments/{old}` with
 * `{"volumeAttachment": {"volumeId": NEW}}`, `compute/api.py:swap_volume`,
 * `compute/manager.py:swap_volume`). Nova has the hypervisor copy the
 * guest's disk onto the new volume, then completes the new attachment,
 * deletes the old one and points the same mapping (device, boot index,
 * delete_on_termination, tag) at the new volume. cairn has no hypervisor:
 * the storage worker copies the old volume's file onto the new one.
 *
 * Durable without an API in the loop: the request's one transaction moves
 * the old attachment to `detaching` (the old volume `detaching`, as Nova's
 * `begin_detaching`), reserves the new volume for the server (`attaching`)
 * and writes one `volume.swap` task. Its worker copies, moves the new file
 * under the server's folder and the old one out (each step idempotent),
 * then one transaction records everything (`volumeSwapped`). A task that
 * fails for good gives the old attachment back and frees the new volume
 * (`swapFailed`); the sweeper sees to that when a worker dies.
 *
 * Both volumes must be on the same file backend: one worker must see both
 * files (a cross-host copy is not something a file backend can do).
 */
import { badRequest, invalidVolume, notFound } from '../../domain/errors';
import { AttachmentTransitions, SERVER_VOLUMES_CHANGEABLE, ServerVmState, SwapTransitions, VolumeTransitions } from '../../domain/status';
import * as attachmentsDb from '../../db/attachments';
import type { Tx } from '../../db/connection';
import * as serversDb from '../../db/servers';
import { payloadOf, type DbTaskRow } from '../../db/tasks';
import * as volumesDb from '../../db/volumes';
import { connectionInfo, settleVolumeStatus } from '../attachments/state';
import { volumeRefusal } from '../attachments/attachments';
import type { RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { MessageDetail, MessageEvent, recordMessage } from '../messages/messages';
import type { AttachmentService } from '../attachments/attachments';
import { connectorFor } from '../compute/serverOps';
import { invalidState, instanceNotFound, projectScope } from '../compute/servers';
import { enqueue } from '../tasks/outbox';
import { TaskKind } from '../../domain/status';
import { attachmentStatus, volumeStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse } from '../status/move';

/** What the `volume.swap` task carries (its resource is the new volume). */
export interface SwapPayload {
  server_id: string;
  bdm_id: string;
  old_volume_id: string;
  old_attachment_id: string;
  old_location: string | null;
  new_attachment_id: string;
  new_location: string | null;
  new_size: number;
  mode: 'rw' | 'ro';
  /** A multi-attach volume's file stays at the top level (the file driver's layout). */
  old_multiattach: boolean;
  new_multiattach: boolean;
}

/** What the worker reports: where each file is now and how the server reaches the new one. */
export interface SwapResult {
  oldLocation: string;
  newLocation: string;
  devicePath: string;
  driverVolumeType: string;
}

/**
 * Accepts the swap (Nova's checks, Nova's order and texts: the old volume
 * 404, the new one 400, the server's state 409, then the volumes 400) and
 * queues it. The caller has checked the swap policy.
 */
export async function swapVolume(
  deps: ServiceDeps,
  attachments: AttachmentService,
  ctx: RequestContext,
  serverId: string,
  oldVolumeId: string,
  newVolumeId: string,
): Promise<void> {
  await deps.db.transaction(async (trx) => {
    const s = await serversDb.lockServer(trx, serverId, projectScope(ctx));
    if (!s) throw instanceNotFound(serverId);
    const scope = { projectId: projectScope(ctx) };
    const old = await volumesDb.lock(trx, oldVolumeId, scope);
    const vol = await volumesDb.lock(trx, newVolumeId, scope);
    if (!old) throw notFound(`Volume ${oldVolumeId} could not be found.`);
    if (!vol) throw badRequest(`Volume ${newVolumeId} could not be found.`);
    // Nova: ACTIVE (PAUSED, RESIZED); cairn copies with no guest running, so a stopped server may swap too.
    if (s.task_state !== null || !SERVER_VOLUMES_CHANGEABLE.includes(s.vm_state as ServerVmState)) invalidState(s, 'swap_volume');
    const b = await serversDb.findBdm(trx, s.id, old.id);
    const oldAtt = b?.attachment_id ? await attachmentsDb.find(trx, b.attachment_id) : undefined;
    // Nova looks for the server among the old volume's attachments before its own mapping, hence this text for both.
    if (!b || !oldAtt || oldAtt.instance_uuid !== s.id) throw invalidVolume('Old volume is attached to a different instance.');
    if ((await attachmentsDb.ofVolume(trx, vol.id)).length > 0) throw invalidVolume('New volume must be detached in order to swap.');
    if (vol.size < old.size) throw invalidVolume('New volume must be the same size or larger.');
    if (old.multiattach && (await attachmentsDb.ofVolume(trx, old.id)).length > 1) {
      throw badRequest('Swapping multi-attach volumes with more than one read/write attachment is not supported.');
    }
    if (vol.backend !== old.backend) {
      throw invalidVolume(
        `cairn swaps volumes within one backend; volume ${old.id} is on ${old.backend}, volume ${vol.id} on ${vol.backend}.`,
      );
    }
    if (deps.config.backends.find((x) => x.name === vol.backend)?.driver !== 'file') {
      throw invalidVolume(`the volumes of backend ${vol.backend} cannot be swapped (only file backends copy a volume in place).`);
    }
    // Old: `begin_detaching`; the attachment stays the server's until the swap is recorded.
    await moveOrRefuse(trx, attachmentStatus, oldAtt.id, SwapTransitions.begin, () =>
      invalidVolume(`Attachment ${oldAtt.id} status must be attached to swap, but the current status is ${oldAtt.attach_status}.`),
    );
    await moveOrRefuse(trx, volumeStatus, old.id, VolumeTransitions.detach, volumeRefusal(old, VolumeTransitions.detach, 'to swap'));
    // New: reserved for the server, then attaching (Nova's attachment_create + attachment_update).
    const reserved = await attachments.create(ctx, { volume_uuid: vol.id, instance_uuid: s.id }, trx);
    const connector = connectorFor(s, b.device_name);
    await moveIfStill(trx, attachmentStatus, reserved.id, AttachmentTransitions.connect, {
      connector,
      attached_host: s.host,
      mountpoint: b.device_name,
      attach_mode: oldAtt.attach_mode ?? 'rw',
    });
    const reservedVol = (await volumesDb.lock(trx, vol.id, scope))!;
    await moveOrRefuse(
      trx,
      volumeStatus,
      vol.id,
      VolumeTransitions.connect,
      volumeRefusal(reservedVol, VolumeTransitions.connect, 'to attach'),
    );
    const payload: SwapPayload = {
      server_id: s.id,
      bdm_id: b.id,
      old_volume_id: old.id,
      old_attachment_id: oldAtt.id,
      old_location: old.provider_location,
      new_attachment_id: reserved.id,
      new_location: vol.provider_location,
      new_size: vol.size,
      mode: oldAtt.attach_mode ?? 'rw',
      old_multiattach: old.multiattach,
      new_multiattach: vol.multiattach,
    };
    await enqueue(trx, deps.config, ctx, TaskKind.volumeSwap, { type: 'volume', id: vol.id, backend: vol.backend }, { ...payload });
  });
  deps.notifier.tasksWritten();
}

/**
 * The worker copied and moved the files: in the task's transaction, the new
 * attachment completes, the old one goes, both volumes settle, and the
 * mapping names the new volume. Steps that no longer apply (the server was
 * deleted meanwhile and its teardown took the new attachment) are skipped.
 */
export async function volumeSwapped(trx: Tx, task: DbTaskRow, r: SwapResult): Promise<void> {
  const p = payloadOf<SwapPayload>(task);
  await volumesDb.update(trx, task.resource_id, { provider_location: r.newLocation });
  await volumesDb.update(trx, p.old_volume_id, { provider_location: r.oldLocation });
  await moveIfStill(trx, attachmentStatus, p.new_attachment_id, SwapTransitions.done, {
    attach_time: new Date(),
    connection_info: connectionInfo(p.new_attachment_id, p.mode, r.driverVolumeType, r.devicePath),
  });
  await attachmentsDb.remove(trx, p.old_attachment_id);
  await settleVolumeStatus(trx, task.resource_id);
  await settleVolumeStatus(trx, p.old_volume_id);
  const b = await serversDb.findBdm(trx, p.server_id, p.old_volume_id);
  if (b?.id === p.bdm_id) {
    await serversDb.updateBdm(trx, b.id, { volume_id: task.resource_id, attachment_id: p.new_attachment_id, volume_size: p.new_size });
  }
}

/** A swap that will not happen: the old attachment is the server's again, the new volume free. */
export async function swapFailed(trx: Tx, task: DbTaskRow, _reason: string): Promise<void> {
  const p = payloadOf<SwapPayload>(task);
  await moveIfStill(trx, attachmentStatus, p.old_attachment_id, SwapTransitions.failed);
  await attachmentsDb.remove(trx, p.new_attachment_id);
  await settleVolumeStatus(trx, p.old_volume_id);
  await settleVolumeStatus(trx, task.resource_id);
  if (task.project_id) {
    await recordMessage(trx, {
      projectId: task.project_id,
      requestId: task.request_id,
      resourceType: 'VOLUME',
      resourceId: task.resource_id,
      event: MessageEvent.attachVolume,
      detail: MessageDetail.swapFailed, // the reason is the task's last_error
    });
  }
}
