import { atLeast } from '../domain/microversion';
import { isoCinder } from '../db/time';
import type { LimitsService } from '../services/limits';
import { Binary, type ServiceRegistry } from '../services/serviceRegistry';
import { one } from '../services/listQuery';
import { ok, type RouteTable } from './http';
import extensions from './extensions.json';

/** Limits, availability zones, services and extensions. */
export function infoRoutes(limits: LimitsService, registry: ServiceRegistry, zone: string): RouteTable {
  return {
    showLimits: async (r) => ok({ limits: { rate: [], absolute: await limits.absolute(r.ctx, one(r.query.project_id)) } }),
    listAvailabilityZones: async () => ok({ availabilityZoneInfo: [{ zoneName: zone, zoneState: { available: true } }] }),
    listExtensions: async () => ok({ extensions }),
    listServices: async (r) => {
      const rows = await registry.list(r.ctx, { binary: one(r.query.binary), host: one(r.query.host) });
      return ok({
        services: rows.map((s) => {
          const body: Record<string, unknown> = {
            binary: s.binary, host: s.host, zone: s.zone, status: s.disabled ? 'disabled' : 'enabled',
            state: s.up ? 'up' : 'down', updated_at: isoCinder(s.heartbeat_at),
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
  };
}
