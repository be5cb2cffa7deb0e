import { one, parseBool } from '../../services/listQuery';
import type { QuotaService } from '../../services/quotas/quotas';
import { ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';

/** `os-quota-sets` and `os-quota-class-sets` (`cinder/api/contrib/quotas.py`, `quota_classes.py`). */
export function quotaRoutes(quotas: QuotaService): RouteTable {
  return {
    showQuotaSet: async (r) => {
      const raw = one(r.query.usage);
      const usage = raw !== undefined && parseBool(raw, 'usage');
      const project = r.params.quota_project_id!;
      return ok({ quota_set: { ...(await quotas.show(r.ctx, project, usage)), id: project } });
    },
    showQuotaSetDefaults: async (r) => {
      const project = r.params.quota_project_id!;
      return ok({ quota_set: { ...(await quotas.defaults(r.ctx, project)), id: project } });
    },
    // Cinder answers an update with the limits and no id.
    updateQuotaSet: async (r) => ok({ quota_set: await quotas.update(r.ctx, r.params.quota_project_id!, r.body.quota_set) }),
    // 200 with an empty body, as recorded from Cinder 21.
    deleteQuotaSet: async (r) => {
      await quotas.reset(r.ctx, r.params.quota_project_id!);
      return { status: 200, body: undefined };
    },
    showQuotaClassSet: async (r) => {
      const name = r.params.quota_class_name!;
      return ok({ quota_class_set: { ...(await quotas.showClass(r.ctx, name)), id: name } });
    },
    updateQuotaClassSet: async (r) =>
      ok({ quota_class_set: await quotas.updateClass(r.ctx, r.params.quota_class_name!, r.body.quota_class_set) }),
  } satisfies CinderRoutes;
}
