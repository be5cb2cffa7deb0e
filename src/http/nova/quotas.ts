import { absoluteLimits } from '../../domain/computeQuota';
import type { ComputeQuotaService } from '../../services/compute/quotas';
import { accepted, ok } from '../shared/http';
import type { ComputeRouteTable, ComputeRoutes } from './http';

/** `os-quota-sets`, `os-quota-class-sets` and `GET /limits`, shaped per microversion by the service and the domain. */
export function computeQuotaRoutes(quotas: ComputeQuotaService): ComputeRouteTable {
  return {
    showComputeQuotaSet: async (r) => ok({ quota_set: await quotas.show(r.ctx, r.params.project_id!, r.query) }),
    showComputeQuotaSetDetail: async (r) => ok({ quota_set: await quotas.detail(r.ctx, r.params.project_id!, r.query) }),
    showComputeQuotaSetDefaults: async (r) => ok({ quota_set: await quotas.defaults(r.ctx, r.params.project_id!) }),
    updateComputeQuotaSet: async (r) => ok({ quota_set: await quotas.update(r.ctx, r.params.project_id!, r.query, r.body.quota_set) }),
    // 202 with no body: Nova's own TODO says it should have been 204.
    deleteComputeQuotaSet: async (r) => {
      await quotas.reset(r.ctx, r.params.project_id!, r.query);
      return accepted();
    },
    showComputeQuotaClassSet: async (r) => ok({ quota_class_set: await quotas.showClass(r.ctx, r.params.class_name!) }),
    updateComputeQuotaClassSet: async (r) =>
      ok({ quota_class_set: await quotas.updateClass(r.ctx, r.params.class_name!, r.body.quota_class_set) }),
    showComputeLimits: async (r) => {
      const { limit, used } = await quotas.limits(r.ctx, r.query);
      // Nova enforces no rate limits any more: `rate` is always empty.
      return ok({ limits: { rate: [], absolute: absoluteLimits(r.ctx.version, limit, used) } });
    },
  } satisfies ComputeRoutes;
}
