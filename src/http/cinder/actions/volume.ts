import { atLeast } from '../../../domain/microversion';
import type { VolumeActionService } from '../../../services/volumes/actions';
import type { VolumeService } from '../../../services/volumes/volumes';
import type { VolumeUploadService } from '../../../services/volumes/upload';
import { parseBool } from '../../../services/listQuery';
import { accepted, ok } from '../../shared/http';
import type { VolumeActionTable } from '../volumeActions';

/** Volume actions that are not about attachments. Cinder answers 202, except set_bootable and image metadata (200). */
export function volumeActions(actions: VolumeActionService, volumes: VolumeService, upload: VolumeUploadService): VolumeActionTable {
  const bool = (v: unknown, name: string) => (typeof v === 'boolean' ? v : parseBool(String(v), name));
  return {
    'os-extend': async (r, id, args) => {
      await actions.extend(r.ctx, id, Number(args.new_size), { inUse: atLeast(r.ctx.version, 3, 42) });
      return accepted();
    },
    'os-set_bootable': async (r, id, args) => {
      await actions.setBootable(r.ctx, id, bool(args.bootable, 'bootable'));
      return ok(undefined);
    },
    'os-retype': async (r, id, args) => {
      await actions.retype(r.ctx, id, args.new_type);
      return accepted();
    },
    'os-reset_status': async (r, id, args) => {
      await actions.resetStatus(r.ctx, id, args);
      return accepted();
    },
    'os-force_delete': async (r, id) => {
      await volumes.delete(r.ctx, id, { force: true });
      return accepted();
    },
    'os-show_image_metadata': async (r, id) => ok({ metadata: await actions.showImageMetadata(r.ctx, id) }),
    'os-set_image_metadata': async (r, id, args) => ok({ metadata: await actions.setImageMetadata(r.ctx, id, args.metadata) }),
    'os-unset_image_metadata': async (r, id, args) => {
      await actions.unsetImageMetadata(r.ctx, id, args.key);
      return ok(undefined);
    },
    'os-volume_upload_image': async (r, id, args) =>
      accepted({ 'os-volume_upload_image': await upload.upload(r.ctx, id, args, { visibility: atLeast(r.ctx.version, 3, 1) }) }),
  };
}
