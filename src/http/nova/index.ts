import type express from 'express';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/identity';
import { computeRoutes } from './routes';
import type { ServiceDeps } from '../../services/deps';
import type { Services } from '../../services';
import { ServerOps } from '../../services/compute/serverOps';
import { ServerService } from '../../services/compute/servers';
import { ServerVolumeService } from '../../services/compute/serverVolumes';
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
export function createCompute(
  deps: ServiceDeps,
  services: Services,
  authenticate: Authenticator,
  log: Logger,
  idempotency?: Idempotency,
): Compute {
  const c = deps.config;
  const leaseMs = c.taskLeaseSeconds * 1000;
  // A storage task ends by then: done, or failed by the runner or the sweeper.
  const taskTimeoutMs = (c.taskUnclaimedTimeoutSeconds + c.taskLeaseSeconds * c.taskMaxAttempts) * 1000;
  const { attachments, volumes: cinderVolumes } = services;
  const ops = new ServerOps(deps, attachments, cinderVolumes, log, {
    leaseMs,
    sweepMs: Math.max(250, Math.min(5000, leaseMs / 4)),
    buildTimeoutMs: Math.max(600_000, 2 * taskTimeoutMs),
    taskTimeoutMs,
  });
  const servers = new ServerService(deps, ops, { volumes: cinderVolumes, attachments });
  // An attach answers once connected; the connect task's own wait (awaitTask) bounds it to a minute.
  const volumes = new ServerVolumeService(deps, ops, attachments, 60_000);
  return {
    router: computeRouter({
      routes: computeRoutes(servers, volumes, services.compute.quotas, {
        actions: services.compute.actions,
        keypairs: services.compute.keypairs,
        usage: services.compute.usage,
        proxy: services.compute.proxy,
        zone: c.availabilityZone,
        host: c.hostname,
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
