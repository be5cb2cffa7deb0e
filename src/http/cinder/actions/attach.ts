import { parseBool } from '../../../services/listQuery';
import type { LegacyAttachService } from '../../../services/attachments/legacy';
import { accepted, ok } from '../../shared/http';
import type { VolumeActionTable } from '../volumeActions';

/** The legacy attach actions of `POST /volumes/{id}/action`. */
export function attachActions(legacy: LegacyAttachService): VolumeActionTable {
  const flag = (v: unknown) => (typeof v === 'boolean' ? v : parseBool(String(v), 'readonly'));
  return {
    'os-reserve': async (r, id) => {
      await legacy.reserve(r.ctx, id);
      return accepted();
    },
    'os-unreserve': async (r, id) => {
      await legacy.unreserve(r.ctx, id);
      return accepted();
    },
    'os-begin_detaching': async (r, id) => {
      await legacy.beginDetaching(r.ctx, id);
      return accepted();
    },
    'os-roll_detaching': async (r, id) => {
      await legacy.rollDetaching(r.ctx, id);
      return accepted();
    },
    'os-initialize_connection': async (r, id, args) =>
      ok({ connection_info: await legacy.initializeConnection(r.ctx, id, args.connector) }),
    'os-terminate_connection': async (r, id) => {
      await legacy.terminateConnection(r.ctx, id);
      return accepted();
    },
    'os-attach': async (r, id, args) => {
      await legacy.attach(r.ctx, id, args);
      return accepted();
    },
    'os-detach': async (r, id, args) => {
      await legacy.detach(r.ctx, id, args?.attachment_id ?? undefined);
      return accepted();
    },
    'os-force_detach': async (r, id, args) => {
      await legacy.detach(r.ctx, id, args?.attachment_id ?? undefined, true);
      return accepted();
    },
    'os-update_readonly_flag': async (r, id, args) => {
      await legacy.updateReadonly(r.ctx, id, flag(args.readonly));
      return accepted();
    },
  };
}
