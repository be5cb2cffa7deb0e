import type { RequestContext } from './context';

/** Cinder creates `__DEFAULT__` in a migration too; its id is fixed so every cluster agrees. */
export const DEFAULT_TYPE_ID = '0a7c3ad1-2b1e-4d7a-9b5e-3f3e2d1c0b00';

/**
 * Extra specs a caller without `volume_extension:types_extra_specs:read_sensitive`
 * (admin only, Cinder's default) may see: the fixed user-visible list
 * (`cinder/policies/type_extra_specs.py`, "User visible extra specs").
 */
export const USER_VISIBLE_SPECS: ReadonlySet<string> = new Set(['RESKEY:availability_zones', 'multiattach', 'replication_enabled']);

export function visibleSpecs(ctx: Pick<RequestContext, 'isAdmin'>, specs: Record<string, string>): Record<string, string> {
  return ctx.isAdmin ? specs : Object.fromEntries(Object.entries(specs).filter(([k]) => USER_VISIBLE_SPECS.has(k)));
}
