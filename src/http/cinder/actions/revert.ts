import { notFound } from '../../../domain/errors';
import { atLeast } from '../../../domain/microversion';
import type { VolumeRevertService } from '../../../services/volumes/revert';
import { accepted } from '../../shared/http';
import type { VolumeActionTable } from '../volumeActions';

/** `revert` of `POST /volumes/{id}/action` (3.40): back to the latest snapshot. */
export function revertActions(reverts: VolumeRevertService): VolumeActionTable {
  return {
    revert: async (r, id, args) => {
      // Cinder's versioned action: below 3.40 the method does not exist for the request (404).
      if (!atLeast(r.ctx.version, 3, 40)) throw notFound('The resource could not be found.');
      await reverts.revert(r.ctx, id, args?.snapshot_id ?? undefined);
      return accepted();
    },
  };
}
