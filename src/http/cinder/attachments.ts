import { atLeast } from '../../domain/microversion';
import type { AttachmentService } from '../../services/attachments/attachments';
import { OutcomeUnread } from '../../domain/errors';
import type { DbAttachmentRow } from '../../db/attachments';
import { accepted, noContent, ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';
import { attachmentDetail, attachmentSummary } from './views/attachment';
import { listRules } from './listRules';

/** The v3 attachments API (3.27+; `os-complete` 3.44+, `mode` 3.54+). */
export function attachmentRoutes(attachments: AttachmentService): RouteTable {
  return {
    listAttachments: async (r) =>
      ok({ attachments: (await attachments.list(r.ctx, r.query, listRules(r.ctx.version))).map(attachmentSummary) }),
    listAttachmentsDetail: async (r) =>
      ok({ attachments: (await attachments.list(r.ctx, r.query, listRules(r.ctx.version))).map(attachmentDetail) }),
    showAttachment: async (r) => ok({ attachment: attachmentDetail(await attachments.get(r.ctx, r.params.attachment_id!)) }),
    createAttachment: async (r) => {
      const b = r.body.attachment;
      try {
        const a = await attachments.create(r.ctx, {
          volume_uuid: b.volume_uuid,
          instance_uuid: b.instance_uuid,
          connector: b.connector,
          mode: atLeast(r.ctx.version, 3, 54) && b.mode !== 'null' ? b.mode : undefined,
        });
        return ok({ attachment: attachmentDetail(a) });
      } catch (err) {
        // Committed, outcome unreadable (database outage): accepted, as it is; the client must not retry it as failed.
        if (err instanceof OutcomeUnread && err.row) return accepted({ attachment: attachmentDetail(err.row as DbAttachmentRow) });
        throw err;
      }
    },
    updateAttachment: async (r) =>
      ok({ attachment: attachmentDetail(await attachments.update(r.ctx, r.params.attachment_id!, r.body.attachment.connector)) }),
    deleteAttachment: async (r) => ok({ attachments: (await attachments.delete(r.ctx, r.params.attachment_id!)).map(attachmentSummary) }),
    attachmentAction: async (r) => {
      await attachments.complete(r.ctx, r.params.attachment_id!);
      return noContent();
    },
  } satisfies CinderRoutes;
}
