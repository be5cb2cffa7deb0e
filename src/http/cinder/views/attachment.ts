import { isoCinder } from '../../../domain/time';
import type { DbAttachmentRow } from '../../../db/attachments';
import type { ListedAttachment } from '../../../db/volumes';

/** Cinder's `cinder/api/v3/views/attachments.py`: unset times are "", an unset mode is the string "null". */
export function attachmentSummary(a: DbAttachmentRow) {
  return { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
}

export function attachmentDetail(a: DbAttachmentRow) {
  return {
    ...attachmentSummary(a),
    attached_at: isoCinder(a.attach_time) ?? '',
    detached_at: isoCinder(a.detach_time) ?? '',
    attach_mode: a.attach_mode ?? 'null',
    connection_info: a.connection_info ?? {},
  };
}

/** An entry of a volume's `attachments[]` (`cinder/api/v2/views/volumes.py:_get_attachments`). */
export function volumeAttachmentItem(a: ListedAttachment, isAdmin: boolean) {
  return {
    id: a.volume_id,
    attachment_id: a.id,
    volume_id: a.volume_id,
    server_id: a.instance_uuid,
    host_name: isAdmin ? a.attached_host : null,
    device: a.mountpoint,
    attached_at: isoCinder(a.attach_time),
  };
}
