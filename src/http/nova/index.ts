import type express from 'express';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/identity';
import { computeRoutes } from './routes';
import { ComputeQuotaService } from '../../services/compute/quotas';
import type { ServiceDeps } from '../../services/deps';
import { ServerOps } from '../../services/compute/serverOps';
import { ServerService } from '../../services/compute/servers';
import { ServerVolumeService } from '../../services/compute/serverVolumes';
import { InstanceActionService } from '../../services/compute/instanceActions';
import { KeypairService } from '../../services/compute/keypairs';
import { NovaVolumeProxy } from '../../services/compute/novaVolumeProxy';
import { TenantUsageService } from '../../services/compute/tenantUsage';
import { computeRouter } from './app';
import type { Idempotency } from '../../services/idempotency';

export interface Compute {
  /** Mounted at `/v2.1` by createApp. */
  readonly router: express.Router;
  readonly ops: ServerOps;
  start(): void;
  stop(): Promise<void>;
}

/** The compute API and the driver of its long operations, for an API process. */
export function createCompute(deps: ServiceDeps, authenticate: Authenticator, log: Logger, idempotency?: Idempotency): Compute {
  const c = deps.config;
  const leaseMs = c.taskLeaseSeconds * 1000;
  // A storage task ends by then: done, or failed by the runner or the sweeper.
  const taskTimeoutMs = (c.taskUnclaimedTimeoutSeconds + c.taskLeaseSeconds * c.taskMaxAttempts) * 1000;
  const ops = new ServerOps(deps, log, {
    leaseMs,
    sweepMs: Math.max(250, Math.min(5000, leaseMs / 4)),
    buildTimeoutMs: Math.max(600_000, 2 * taskTimeoutMs),
    taskTimeoutMs,
  });
  const servers = new ServerService(deps, ops);
  // An attach answers once connected; the connect task's own wait (awaitTask) bounds it to a minute.
  const volumes = new ServerVolumeService(deps, ops, 60_000);
  return {
    router: computeRouter({
      routes: computeRoutes(servers, volumes, new ComputeQuotaService(deps), {
        actions: new InstanceActionService(deps), keypairs: new KeypairService(deps), usage: new TenantUsageService(deps),
        proxy: new NovaVolumeProxy(deps), zone: c.availabilityZone, host: c.hostname,
      }),
      authenticate,
      log,
      idempotency,
    }),
    ops,
    start: () => ops.start(),
    stop: () => ops.stop(),
  };
}
