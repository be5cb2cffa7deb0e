import { badRequest, invalidInput, notFound, notImplemented } from '../../domain/errors';
import { usageOnHost, type HostProjectUsage } from '../../db/hosts';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { Binary, type ServiceRegistry, type ServiceState } from './serviceRegistry';

/**
 * `os-hosts` (admin, Cinder's `contrib/hosts.py`): every service's host, and
 * what the volumes of one enabled volume service's backend hold, per project.
 */
export class HostService {
  constructor(
    private readonly deps: ServiceDeps,
    readonly registry: ServiceRegistry,
  ) {}

  async list(ctx: RequestContext, zone?: string): Promise<ServiceState[]> {
    requireAdmin(ctx, 'volume_extension:hosts');
    const services = await this.registry.list(undefined);
    return zone ? services.filter((s) => s.zone === zone) : services;
  }

  /** `host` is a volume service's host exactly (`host@backend`); a disabled one is not found, as in Cinder. */
  async usage(ctx: RequestContext, host: string): Promise<HostProjectUsage[]> {
    requireAdmin(ctx, 'volume_extension:hosts');
    const service = (await this.registry.list(undefined, { binary: Binary.volume })).find((s) => s.host === host && !s.disabled);
    if (!service) throw notFound(`Service cinder-volume could not be found on host ${host}.`);
    return usageOnHost(this.deps.db, service.host);
  }
}

/** `PUT /os-services/{action}` bodies (Cinder's `contrib/services.py` update). */
export interface ServiceUpdateBody {
  host?: string | null;
  cluster?: string | null;
  binary?: string | null;
  service?: string | null;
  disabled_reason?: string | null;
}

const SERVICE_ACTIONS = new Set(['enable', 'disable', 'disable-log-reason', 'freeze', 'thaw']);

/** Cinder's `_is_valid_as_reason`: 1–255 characters once stripped. */
const validReason = (r: unknown): boolean => typeof r === 'string' && r.trim().length >= 1 && r.trim().length <= 255;

/**
 * Refuses, with Cinder's answers, what Cinder refuses; then 501 for a
 * request it would carry out. Disabling (or freezing, which disables) a
 * volume service only means something if the scheduler skips it, and
 * cairn's placement chooses among the configured backends without looking
 * at service state, so cairn does not pretend to honour it.
 */
export async function updateService(
  registry: ServiceRegistry,
  ctx: RequestContext,
  action: string,
  body: ServiceUpdateBody,
  opts: { clusters: boolean },
): Promise<never> {
  requireAdmin(ctx, 'volume_extension:services:update');
  if (!SERVICE_ACTIONS.has(action)) throw invalidInput('Unknown action');
  // `common.get_cluster_host`: clusters (3.26+) or a host, exactly one of them.
  const { clusters } = opts;
  if (Boolean(clusters && body.cluster) === Boolean(body.host)) {
    throw invalidInput(clusters ? 'One and only one of cluster and host must be set.' : 'Host field is missing.');
  }
  if (body.cluster) throw invalidInput(`No service found with cluster=${body.cluster}`); // cairn has no clusters
  const host = body.host!;
  if (action === 'freeze' || action === 'thaw') {
    // Cinder matches the backend (`host@backend`, or one of its pools).
    const found = (await registry.list(undefined, { binary: Binary.volume })).some((s) => s.host === host.split('#')[0]);
    if (!found) throw invalidInput(`No service found with host=${host}`);
    throw notImplemented(`Freezing and thawing backends is not supported: cairn has no replication to fail over.`);
  }
  if (action === 'disable-log-reason' && !validReason(body.disabled_reason)) {
    throw badRequest('Disabled reason contains invalid characters or is too long');
  }
  const binary = body.binary || body.service;
  if (!binary) throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
  const found = (await registry.list(undefined, { binary })).some((s) => s.host === host);
  if (!found) throw notFound(`Service ${binary} could not be found on host ${host}.`);
  throw notImplemented('Enabling and disabling services is not supported: placement does not consult service state.');
}
