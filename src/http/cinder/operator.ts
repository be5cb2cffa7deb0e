import type { Db } from '../../db/connection';
import { TaskState } from '../../domain/status';
import { requireAdmin } from '../../domain/context';
import type { ServiceDeps } from '../../services/deps';
import { workerProviders } from '../../services/backends/extstorage';
import { verifyQuotas } from '../../services/quotas/verify';
import type { ServiceRegistry } from '../../services/backends/serviceRegistry';
import { diagnoseWorkers } from '../../services/backends/storageDiagnose';
import { ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';

const seconds = (from: Date | string | null, now: number) =>
  from ? Math.max(0, Math.round((now - new Date(from).getTime()) / 100) / 10) : null;

async function openTasks(db: Db) {
  return db('tasks')
    .whereIn('state', [TaskState.pending, TaskState.running])
    .orderBy('created_at')
    .limit(500)
    .select(
      'id',
      'kind',
      'state',
      'backend',
      'resource_type',
      'resource_id',
      'project_id',
      'attempts',
      'max_attempts',
      'lease_owner',
      'lease_until',
      'last_error',
      'created_at',
      'available_at',
    );
}

/**
 * cairn's own admin reads for the operator's console (`/console`), under `/v3/{project_id}/cairn/`
 * (api-spec/openapi.yaml): what the public API has no call for.
 */
export function operatorRoutes(deps: ServiceDeps, registry: ServiceRegistry): RouteTable {
  return {
    cairnListTasks: async (r) => {
      requireAdmin(r.ctx, 'cairn:tasks:index');
      const now = Date.now();
      const rows = await openTasks(deps.db);
      return ok({
        tasks: rows.map((t) => ({
          id: t.id,
          kind: t.kind,
          state: t.state,
          backend: t.backend,
          resource_type: t.resource_type,
          resource_id: t.resource_id,
          project_id: t.project_id,
          attempts: t.attempts,
          max_attempts: t.max_attempts,
          lease_owner: t.lease_owner,
          lease_until: t.lease_until ? new Date(t.lease_until).toISOString() : null,
          last_error: t.last_error,
          created_at: new Date(t.created_at).toISOString(),
          age_seconds: seconds(t.created_at, now),
        })),
      });
    },
    cairnListServices: async (r) => {
      requireAdmin(r.ctx, 'cairn:services:index');
      const now = Date.now();
      const services = await registry.list(r.ctx);
      const workers = await workerProviders(deps.db, deps.config);
      return ok({
        services: services.map((s) => ({
          binary: s.binary,
          host: s.host,
          zone: s.zone,
          state: s.up ? 'up' : 'down',
          status: s.disabled ? 'disabled' : 'enabled',
          heartbeat_at: new Date(s.heartbeat_at).toISOString(),
          heartbeat_age_seconds: seconds(s.heartbeat_at, now),
        })),
        // ExtStorage providers of every worker host side by side (`cairn-manage storage diagnose`).
        workers: workers.map((w) => ({ host: w.host, backend: w.backend, up: w.up })),
        providers: diagnoseWorkers(workers),
      });
    },
    cairnQuotaUsage: async (r) => {
      requireAdmin(r.ctx, 'cairn:quota_usage:index');
      const report = await verifyQuotas(deps.db);
      return ok({
        projects: report.projects.map((p) => ({
          project_id: p.projectId,
          usage: Object.fromEntries(p.keys.map((k) => [k.key, { in_use: k.inUse, limit: k.limit }])),
        })),
      });
    },
  } satisfies CinderRoutes;
}
