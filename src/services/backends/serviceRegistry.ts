import * as servicesDb from '../../db/services';
import type { DbServiceRow } from '../../db/services';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';

/** Binary names as Cinder's os-services shows them: API processes schedule, workers are volume services. */
export const Binary = { scheduler: 'cinder-scheduler', volume: 'cinder-volume', backup: 'cinder-backup' } as const;

export interface ServiceState extends DbServiceRow {
  up: boolean;
}

export class ServiceRegistry {
  constructor(private readonly deps: ServiceDeps) {}

  /** Services with up/down judged from the age of their last heartbeat. */
  async list(ctx: RequestContext | undefined, filter: { binary?: string; host?: string } = {}): Promise<ServiceState[]> {
    if (ctx) requireAdmin(ctx, 'volume_extension:services:index');
    const rows = await servicesDb.list(this.deps.db, filter);
    const cutoff = Date.now() - this.deps.config.serviceDownSeconds * 1000;
    return rows.map((r) => ({ ...r, up: new Date(r.heartbeat_at).getTime() >= cutoff }));
  }
}
