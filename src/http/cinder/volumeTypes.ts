import { badRequest } from '../../domain/errors';
import type { VolumeTypeService } from '../../services/types/volumeTypes';
import { accepted, ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';
import { volumeTypeView } from './views/volumeType';

/** Volume types, their extra specs and project access. */
export function volumeTypeRoutes(types: VolumeTypeService): RouteTable {
  return {
    listVolumeTypes: async (r) =>
      ok({
        volume_types: (await types.list(r.ctx, r.query)).map((t) => volumeTypeView(t, r.ctx)),
      }),
    showVolumeType: async (r) => ok({ volume_type: volumeTypeView(await types.get(r.ctx, r.params.type_id!), r.ctx) }),
    showDefaultVolumeType: async (r) => ok({ volume_type: volumeTypeView(await types.getDefault(), r.ctx, 'default') }),
    createVolumeType: async (r) => ok({ volume_type: volumeTypeView(await types.create(r.ctx, r.body.volume_type), r.ctx, 'create') }),
    updateVolumeType: async (r) =>
      ok({ volume_type: volumeTypeView(await types.update(r.ctx, r.params.type_id!, r.body.volume_type), r.ctx, 'update') }),
    deleteVolumeType: async (r) => {
      await types.delete(r.ctx, r.params.type_id!);
      return accepted();
    },
    listExtraSpecs: async (r) => ok({ extra_specs: await types.getExtraSpecs(r.ctx, r.params.type_id!) }),
    createExtraSpecs: async (r) => ok({ extra_specs: await types.setExtraSpecs(r.ctx, r.params.type_id!, r.body.extra_specs) }),
    showExtraSpec: async (r) => ok(await types.getExtraSpec(r.ctx, r.params.type_id!, r.params.key!)),
    updateExtraSpec: async (r) => ok(await types.setExtraSpec(r.ctx, r.params.type_id!, r.params.key!, r.body)),
    deleteExtraSpec: async (r) => {
      await types.deleteExtraSpec(r.ctx, r.params.type_id!, r.params.key!);
      return accepted();
    },
    volumeTypeAction: async (r) => {
      const id = r.params.type_id!;
      if (r.body.addProjectAccess) await types.addAccess(r.ctx, id, r.body.addProjectAccess.project);
      else if (r.body.removeProjectAccess) await types.removeAccess(r.ctx, id, r.body.removeProjectAccess.project);
      else
        throw badRequest(
          `There is no such action: ${Object.keys(r.body)[0]}. Verify the request body and Content-Type header and try again.`,
        );
      return accepted();
    },
    listVolumeTypeAccess: async (r) => ok({ volume_type_access: await types.listAccess(r.ctx, r.params.type_id!) }),
  } satisfies CinderRoutes;
}
