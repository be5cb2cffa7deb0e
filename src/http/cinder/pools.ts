import { atLeast } from '../../domain/microversion';
import { isoCinder } from '../../domain/time';
import { parseBool, one } from '../../services/listQuery';
import type { PoolService, Pool } from '../../services/backends/pools';
import { ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';

/** A pool's `capabilities` (`get_pools?detail=True`): the backend's report plus what cairn can count. */
function poolCapabilities(p: Pool): Record<string, unknown> {
  return {
    ...p.capabilities,
    pool_name: String(p.capabilities.volume_backend_name ?? p.name.split('#')[1]),
    // Backends do not report their capacity; Cinder drivers say 'unknown' then.
    total_capacity_gb: 'unknown',
    free_capacity_gb: 'unknown',
    allocated_capacity_gb: p.allocatedGb,
    reserved_percentage: 0,
    QoS_support: false,
    timestamp: isoCinder(p.service.heartbeat_at),
  };
}

/** Standard capability properties (Cinder's `_init_standard_capabilities`) that cairn's backends have. */
const PROPERTIES: Readonly<Record<string, { title: string; description: string; type: string }>> = {
  thin_provisioning_support: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
  multiattach: { title: 'Multi-attach', description: 'Volumes may be attached to several servers at once.', type: 'boolean' },
};

/** `scheduler-stats/get_pools` and `capabilities/{host}` (Cinder's views: `scheduler_stats.py`, `capabilities.py`). */
export function poolRoutes(pools: PoolService): RouteTable {
  return {
    getPools: async (r) => {
      const detail = r.query.detail !== undefined && parseBool(one(r.query.detail)!, 'detail');
      const name = atLeast(r.ctx.version, 3, 28) ? one(r.query.name) : undefined;
      const list = await pools.list(r.ctx, { name });
      return ok({ pools: list.map((p) => (detail ? { name: p.name, capabilities: poolCapabilities(p) } : { name: p.name })) });
    },
    showCapabilities: async (r) => {
      const { service, capabilities: c } = await pools.capabilities(r.ctx, r.params.host_name!);
      const str = (v: unknown) => (v === undefined ? null : String(v));
      return ok({
        namespace: `OS::Storage::Capabilities::${service.host}`,
        vendor_name: str(c.vendor_name),
        volume_backend_name: str(c.volume_backend_name),
        pool_name: null,
        driver_version: str(c.driver_version),
        storage_protocol: str(c.storage_protocol),
        display_name: null,
        description: null,
        visibility: null,
        replication_targets: [],
        properties: Object.fromEntries(Object.entries(PROPERTIES).filter(([k]) => c[k] === true)),
      });
    },
  } satisfies CinderRoutes;
}
