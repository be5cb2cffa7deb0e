import { notFound } from '../../domain/errors';
import { allocatedByPool } from '../../db/hosts';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { Binary, type ServiceRegistry, type ServiceState } from './serviceRegistry';

/** What a volume service's heartbeat reports of its backend (runtime.ts: `capabilitiesOf`). */
export type BackendCapabilities = Record<string, string | boolean>;

export interface Pool {
  /** `host@backend#pool`, the form of a volume's `os-vol-host-attr:host`. */
  readonly name: string;
  readonly service: ServiceState;
  readonly capabilities: BackendCapabilities;
  readonly allocatedGb: number;
}

const capabilitiesOf = (s: ServiceState): BackendCapabilities => (s.report as { capabilities?: BackendCapabilities }).capabilities ?? {};

/**
 * Pools and backend capabilities, as Cinder's scheduler knows them: from the
 * reports volume services send with their heartbeats. Each backend is one
 * pool named after it (placement.ts puts volumes on `host@backend#backend`).
 */
export class PoolService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly registry: ServiceRegistry,
  ) {}

  /**
   * `GET /scheduler-stats/get_pools` (admin): only services that are up and
   * enabled, as the scheduler's host manager keeps them; `name` (3.28) filters.
   */
  async list(ctx: RequestContext, filter: { name?: string } = {}): Promise<Pool[]> {
    requireAdmin(ctx, 'scheduler_extension:scheduler_stats:get_pools');
    const services = (await this.registry.list(undefined, { binary: Binary.volume })).filter((s) => s.up && !s.disabled);
    const allocated = await allocatedByPool(this.deps.db);
    const pools = services.map((s) => {
      const capabilities = capabilitiesOf(s);
      const name = `${s.host}#${String(capabilities.volume_backend_name ?? s.host.split('@')[1] ?? s.host)}`;
      return { name, service: s, capabilities, allocatedGb: allocated.get(name) ?? 0 };
    });
    return filter.name === undefined ? pools : pools.filter((p) => p.name === filter.name);
  }

  /**
   * `GET /capabilities/{host}` (admin): the backend's capabilities. `host` is a
   * backend (`host@backend`) or one of its pools; Cinder's 404 text when no
   * volume service has it.
   */
  async capabilities(ctx: RequestContext, host: string): Promise<{ service: ServiceState; capabilities: BackendCapabilities }> {
    requireAdmin(ctx, 'volume_extension:capabilities');
    const backend = host.split('#')[0]!;
    const [service] = await this.registry.list(undefined, { binary: Binary.volume, host: backend });
    if (!service) throw notFound(`Can't find service: ${host}`);
    return { service, capabilities: capabilitiesOf(service) };
  }
}
