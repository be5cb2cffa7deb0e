import type { RequestContext } from '../../domain/context';
import type { QuotaService } from './quotas';

/** `GET /limits`: the project's quota limits and what it uses, as Cinder's absolute limits. */
export class LimitsService {
  constructor(private readonly quotas: QuotaService) {}

  /** `projectId`: an admin's `?project_id=` (3.39); anyone else gets their own project's figures. */
  async absolute(ctx: RequestContext, projectId?: string): Promise<Record<string, number>> {
    return this.quotas.absolute(ctx, projectId);
  }
}
