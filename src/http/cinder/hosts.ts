import { isoCinder } from '../../domain/time';
import { atLeast } from '../../domain/microversion';
import { HostServiceStatus } from '../../domain/status';
import { updateService, type HostService } from '../../services/backends/hosts';
import { one } from '../../services/listQuery';
import { ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';

/** `os-hosts` (Cinder's `contrib/hosts.py` views; every count a string, as there). */
export function hostRoutes(hosts: HostService): RouteTable {
  return {
    listHosts: async (r) =>
      ok({
        hosts: (await hosts.list(r.ctx, one(r.query.zone))).map((s) => ({
          host_name: s.host,
          service: s.binary,
          zone: s.zone,
          'service-status': s.up ? HostServiceStatus.available : HostServiceStatus.unavailable,
          'service-state': s.disabled ? 'disabled' : 'enabled',
          'last-update': isoCinder(s.heartbeat_at),
        })),
      }),
    updateService: async (r) =>
      updateService(hosts.registry, r.ctx, r.params.service_action!, r.body ?? {}, { clusters: atLeast(r.ctx.version, 3, 26) }),
    showHost: async (r) => {
      const host = r.params.host_name!;
      const usage = await hosts.usage(r.ctx, host);
      const sum = (k: 'volume_count' | 'total_volume_gb' | 'snapshot_count' | 'total_snapshot_gb') => usage.reduce((n, u) => n + u[k], 0);
      const resource = (
        project: string,
        u: { volume_count: number; total_volume_gb: number; snapshot_count: number; total_snapshot_gb: number },
      ) => ({
        resource: {
          host,
          project,
          volume_count: String(u.volume_count),
          total_volume_gb: String(u.total_volume_gb),
          snapshot_count: String(u.snapshot_count),
          total_snapshot_gb: String(u.total_snapshot_gb),
        },
      });
      const total = {
        volume_count: sum('volume_count'),
        total_volume_gb: sum('total_volume_gb'),
        snapshot_count: sum('snapshot_count'),
        total_snapshot_gb: sum('total_snapshot_gb'),
      };
      return ok({ host: [resource('(total)', total), ...usage.map((u) => resource(u.project_id, u))] });
    },
  } satisfies CinderRoutes;
}
