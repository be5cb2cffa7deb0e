import { atLeast } from '../../domain/microversion';
import { isoCinder } from '../../domain/time';
import type { LimitsService } from '../../services/quotas/limits';
import { Binary, type ServiceRegistry } from '../../services/backends/serviceRegistry';
import { one } from '../../services/listQuery';
import { ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';
import extensions from './extensions.json';

/**
 * Cinder's default `etc/cinder/resource_filters.json`: the filter keys a
 * non-admin may use on each resource's list (`GET /resource_filters`, 3.33).
 */
const RESOURCE_FILTERS: Readonly<Record<string, readonly string[]>> = {
  volume: [
    'name',
    'status',
    'metadata',
    'bootable',
    'migration_status',
    'availability_zone',
    'group_id',
    'size',
    'created_at',
    'updated_at',
  ],
  backup: ['name', 'status', 'volume_id'],
  snapshot: ['name', 'status', 'volume_id', 'metadata', 'availability_zone'],
  group: [],
  group_snapshot: ['status', 'group_id'],
  attachment: ['volume_id', 'status', 'instance_id', 'attach_status'],
  message: ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'],
  pool: ['name', 'volume_type'],
  volume_type: ['is_public'],
};

/** Limits, availability zones, services, resource filters and extensions. */
export function infoRoutes(limits: LimitsService, registry: ServiceRegistry, zone: string): RouteTable {
  return {
    showLimits: async (r) => {
      // An admin may name another project from 3.39.
      const named = atLeast(r.ctx.version, 3, 39) ? (one(r.query.project_id) ?? one(r.query.tenant_id)) : undefined;
      return ok({ limits: { rate: [], absolute: await limits.absolute(r.ctx, named) } });
    },
    // `resource_filters.py`: `?resource=` picks one resource (an unknown one gives an empty list); other keys are ignored.
    listResourceFilters: async (r) => {
      const resource = one(r.query.resource);
      const names = resource === undefined ? Object.keys(RESOURCE_FILTERS) : Object.keys(RESOURCE_FILTERS).filter((k) => k === resource);
      return ok({ resource_filters: names.map((k) => ({ filters: [...RESOURCE_FILTERS[k]!], resource: k })) });
    },
    listAvailabilityZones: async () => ok({ availabilityZoneInfo: [{ zoneName: zone, zoneState: { available: true } }] }),
    listExtensions: async () => ok({ extensions }),
    listServices: async (r) => {
      const rows = await registry.list(r.ctx, { binary: one(r.query.binary), host: one(r.query.host) });
      return ok({
        services: rows.map((s) => {
          const body: Record<string, unknown> = {
            binary: s.binary,
            host: s.host,
            zone: s.zone,
            status: s.disabled ? 'disabled' : 'enabled',
            state: s.up ? 'up' : 'down',
            updated_at: isoCinder(s.heartbeat_at),
          };
          if (atLeast(r.ctx.version, 3, 7)) body.cluster = null;
          body.disabled_reason = s.disabled_reason;
          if (s.binary === Binary.volume) {
            if (atLeast(r.ctx.version, 3, 49)) body.backend_state = s.up ? 'up' : 'down';
            Object.assign(body, { replication_status: 'disabled', active_backend_id: null, frozen: false });
          }
          return body;
        }),
      });
    },
  } satisfies CinderRoutes;
}
