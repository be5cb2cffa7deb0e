import type { RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { QuotaService } from './quotas';

/** `GET /limits`: the project's quota limits and what it uses, as Cinder's absolute limits. */
export class LimitsService {
  private readonly quotas: QuotaService;

  constructor(deps: ServiceDeps) {
    this.quotas = new QuotaService(deps);
  }

  /** `projectId`: an admin's `?project_id=` (3.39); anyone else gets their own project's figures. */
  async absolute(ctx: RequestContext, projectId?: string): Promise<Record<string, number>> {
    return this.quotas.absolute(ctx, projectId);
  }
}
