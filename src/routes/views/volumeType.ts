import type { RequestContext } from '../../services/context';
import type { VolumeTypeWithSpecs } from '../../services/volumeTypes';

/** Extra specs a non-admin may see (`cinder/policies/type_extra_specs.py`). */
const USER_VISIBLE_SPECS = new Set(['RESKEY:availability_zones', 'multiattach', 'replication_enabled']);

export type TypeViewMode = 'show' | 'create' | 'update' | 'default';

/** Cinder's `cinder/api/v3/views/types.py`, with the keys each response has. */
export function volumeTypeView(t: VolumeTypeWithSpecs, ctx: RequestContext, mode: TypeViewMode = 'show') {
  const specs = ctx.isAdmin
    ? t.extraSpecs
    : Object.fromEntries(Object.entries(t.extraSpecs).filter(([k]) => USER_VISIBLE_SPECS.has(k)));
  const body: Record<string, unknown> = {
    id: t.id, name: t.name, is_public: t.is_public, description: t.description, extra_specs: specs,
  };
  if ((mode === 'show' || mode === 'default') && ctx.isAdmin) body.qos_specs_id = t.qos_specs_id ?? null;
  if (mode === 'show' || mode === 'create') body['os-volume-type-access:is_public'] = t.is_public;
  return body;
}
