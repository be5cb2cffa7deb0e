import type { RequestContext } from '../../../domain/context';
import type { VolumeTypeWithSpecs } from '../../../services/types/volumeTypes';
import { visibleSpecs } from '../../../domain/volumeType';

export type TypeViewMode = 'show' | 'create' | 'update' | 'default';

/** Cinder's `cinder/api/v3/views/types.py`, with the keys each response has. */
export function volumeTypeView(t: VolumeTypeWithSpecs, ctx: RequestContext, mode: TypeViewMode = 'show') {
  const specs = visibleSpecs(ctx, t.extraSpecs);
  const body: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    is_public: t.is_public,
    description: t.description,
    extra_specs: specs,
  };
  if ((mode === 'show' || mode === 'default') && ctx.isAdmin) body.qos_specs_id = t.qos_specs_id ?? null;
  if (mode === 'show' || mode === 'create') body['os-volume-type-access:is_public'] = t.is_public;
  return body;
}
