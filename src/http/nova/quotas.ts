import { absoluteLimits, quotaClassSetResources, quotaClassSetSettable, quotaSetResources } from '../../domain/computeQuota';
import { atLeast, type ApiVersion } from '../../domain/microversion';
import type { ComputeQuotaRules, ComputeQuotaService } from '../../services/compute/quotas';
import { accepted, ok } from '../shared/http';
import type { ComputeRouteTable, ComputeRoutes } from './http';

/** The microversion's quota rules: query schemas from 2.75, the resources per version (domain/computeQuota.ts). */
const rulesOf = (v: ApiVersion): ComputeQuotaRules => ({
  strictQuery: atLeast(v, 2, 75),
  setResources: quotaSetResources(v),
  classResources: quotaClassSetResources(v),
  classSettable: quotaClassSetSettable(v),
});

/** `os-quota-sets`, `os-quota-class-sets` and `GET /limits`, shaped per microversion here and in the domain. */
export function computeQuotaRoutes(quotas: ComputeQuotaService): ComputeRouteTable {
  return {
    showComputeQuotaSet: async (r) => ok({ quota_set: await quotas.show(r.ctx, r.params.project_id!, r.query, rulesOf(r.ctx.version)) }),
    showComputeQuotaSetDetail: async (r) =>
      ok({ quota_set: await quotas.detail(r.ctx, r.params.project_id!, r.query, rulesOf(r.ctx.version)) }),
    showComputeQuotaSetDefaults: async (r) => ok({ quota_set: await quotas.defaults(r.ctx, r.params.project_id!, rulesOf(r.ctx.version)) }),
    updateComputeQuotaSet: async (r) =>
      ok({ quota_set: await quotas.update(r.ctx, r.params.project_id!, r.query, r.body.quota_set, rulesOf(r.ctx.version)) }),
    // 202 with no body: Nova's own TODO says it should have been 204.
    deleteComputeQuotaSet: async (r) => {
      await quotas.reset(r.ctx, r.params.project_id!, r.query, rulesOf(r.ctx.version));
      return accepted();
    },
    showComputeQuotaClassSet: async (r) =>
      ok({ quota_class_set: await quotas.showClass(r.ctx, r.params.class_name!, rulesOf(r.ctx.version)) }),
    updateComputeQuotaClassSet: async (r) =>
      ok({ quota_class_set: await quotas.updateClass(r.ctx, r.params.class_name!, r.body.quota_class_set, rulesOf(r.ctx.version)) }),
    showComputeLimits: async (r) => {
      const { limit, used } = await quotas.limits(r.ctx, r.query, rulesOf(r.ctx.version));
      // Nova enforces no rate limits any more: `rate` is always empty.
      return ok({ limits: { rate: [], absolute: absoluteLimits(r.ctx.version, limit, used) } });
    },
  } satisfies ComputeRoutes;
}
