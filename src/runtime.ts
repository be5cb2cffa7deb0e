import { serviceRootApp } from './http/listeners';
import type { Server } from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createApp } from './http/cinder/app';
import type { Config } from './config';
import { migrateLatest, openDb, type Db } from './db/connection';
import { PgliteMaintenance, usesPglite } from './db/pgliteMaintenance';
import { authenticatorFor } from './auth';
import { buildRoutes } from './http/cinder/routes';
import { createCompute } from './http/nova';
import { createImageApi } from './http/glance';
import { imageServiceOf } from './services/images';
import { createServices } from './services';
import type { TaskNotifier } from './services/deps';
import { capabilitiesOf } from './services/backends/placement';
import { safeErrSerializer } from './db/errors';
import { rememberingIdentity } from './http/shared/accessLog';
import { Binary } from './services/backends/serviceRegistry';
import { answerClientErrors } from './http/shared/clientErrors';
import { ReconnectingAmqpTransport } from './workers/reconnectingTransport';
import { driverFor } from './workers/drivers';
import { delayedDriver } from './workers/drivers/delayed';
import { Heartbeat } from './workers/heartbeat';
import { InProcessTransport } from './workers/inProcessTransport';
import { Relay } from './workers/relay';
import { Sweeper } from './workers/sweeper';
import { TaskRunner } from './workers/taskRunner';
import { ChunkedBackupStore } from './workers/backup/chunkedStore';
import { BACKUP_QUEUE } from './services/backups/records';
import type { Transport } from './workers/transport';
import { measuredDriver } from './workers/drivers/measured';
import { Metrics } from './metrics';
import { databaseCheck, Health, healthEndpoint, transportCheck } from './health';
import express from 'express';
import { Idempotency } from './services/idempotency';
import { purgeHourly } from './services/retention';
import { consoleRouter } from './console';

export interface RuntimeRoles {
  /** Serve HTTP, and run the relay and sweeper that belong with it. */
  readonly api: boolean;
  /** Backends whose tasks this process executes. */
  readonly workerBackends: readonly string[];
  /** Apply migrations at start (the API and all-in-one do; `cairn-manage db migrate` too). */
  readonly migrate: boolean;
  /** Run the backup service (`cinder-backup` tasks): `cairn backup-worker`, and the all-in-one. */
  readonly backupWorker?: boolean;
}

export interface Runtime {
  readonly db: Db;
  readonly config: Config;
  readonly log: Logger;
  readonly server?: Server;
  readonly url?: string;
  readonly relay?: Relay;
  readonly sweeper?: Sweeper;
  /** This process's Prometheus registry (src/metrics). */
  readonly metrics: Metrics;
  /** This process's health checks (src/health); register more with `health.register`. */
  readonly health: Health;
  /** `cairn worker`'s own listener (`CAIRN_WORKER_PORT`): /healthcheck and /metrics. */
  readonly statusUrl?: string;
  stop(): Promise<void>;
}

export function makeLogger(config: Config, name: string): Logger {
  return pino({ name, level: config.logLevel });
}

/** Builds and starts the processes' parts: the same code for all-in-one and distributed. */
export async function startRuntime(config: Config, roles: RuntimeRoles, baseLog = makeLogger(config, 'cairn')): Promise<Runtime> {
  // Every logger of the runtime: database errors by SQLSTATE and names only, never statements or bind values.
  const log = baseLog.child({}, { serializers: { err: safeErrSerializer } });
  const db = openDb(config);
  if (roles.migrate) await migrateLatest(db);
  let transport: Transport;
  let amqp: ReconnectingAmqpTransport | undefined;
  let relay: Relay | undefined;
  if (config.amqpUrl) {
    // A process outlives its broker: it starts without it, reconnects with backoff, and meanwhile the API accepts
    // writes into the outbox, which the relay publishes once the broker is back (src/workers/reconnectingTransport.ts).
    amqp = new ReconnectingAmqpTransport(config.amqpUrl, config.amqpPrefix, log.child({ part: 'amqp' }), {
      onConnected: () => relay?.tasksWritten(),
      queueType: config.amqpQueueType,
    });
    await amqp.start();
    transport = amqp;
  } else {
    transport = new InProcessTransport();
  }
  /** What service heartbeats report: "degraded" while the broker is unreachable. */
  const messagingHealth = (): { status: 'ok' | 'degraded'; messaging: string } =>
    amqp && !amqp.connected
      ? { status: 'degraded', messaging: `the AMQP broker is unreachable since ${amqp.unreachableSince?.toISOString()}` }
      : { status: 'ok', messaging: amqp ? 'connected' : 'in-process' };
  const stops: Array<() => Promise<void> | void> = [];
  const metrics = new Metrics(log.child({ part: 'metrics' }));
  metrics.collectPool(db);
  if (roles.api) metrics.collectResources(db);
  const health = new Health().register(databaseCheck(db)).register(transportCheck(transport));
  // PGlite is PostgreSQL in single-user mode, without autovacuum: do its work (src/db/pgliteMaintenance.ts).
  if (usesPglite(config)) {
    const maintenance = new PgliteMaintenance(db, log.child({ part: 'maintenance' }));
    maintenance.start();
    stops.push(() => maintenance.stop());
  }

  let sweeper: Sweeper | undefined;
  let notifier: TaskNotifier = { tasksWritten: () => undefined };
  if (roles.api) {
    relay = new Relay(db, transport, log.child({ part: 'relay' }));
    notifier = relay;
    sweeper = new Sweeper(db, relay, log.child({ part: 'sweeper' }), {
      intervalMs: Math.max(250, Math.min(5000, config.taskLeaseSeconds * 250)),
      republishAfterMs: Math.max(10_000, config.taskLeaseSeconds * 5000),
      unclaimedTimeoutMs: config.taskUnclaimedTimeoutSeconds * 1000,
      metrics,
      maxLapses: config.taskMaxLapses,
    });
  }

  for (const name of roles.workerBackends) {
    const backend = config.backends.find((b) => b.name === name);
    if (!backend) throw new Error(`unknown backend ${name}; configured: ${config.backends.map((b) => b.name).join(', ')}`);
    const host = `${config.hostname}@${backend.name}`;
    const base = driverFor(backend, { copyDelayMs: config.faultCopyDelayMs });
    const measured = measuredDriver(base, backend.name, metrics);
    const driver = config.faultDriverDelayMs > 0 ? delayedDriver(measured, config.faultDriverDelayMs) : measured;
    // Volumes from images and uploads to images: the image service, and a download folder on the backend's storage.
    const env = { images: imageServiceOf({ db, config }), scratchDir: path.join(backend.fileStorageDir, '.image-downloads') };
    const runner = new TaskRunner(
      db,
      driver,
      { owner: `${host}:${process.pid}`, leaseSeconds: config.taskLeaseSeconds, env, metrics },
      log.child({ part: 'worker', backend: backend.name }),
    );
    await transport.consume(backend.name, runner.handle, 16);
    // ExtStorage workers advertise their providers (validity, checksum, parameters): the API checks creates
    // against them and `cairn-manage storage diagnose` compares them across hosts.
    const report = async () => ({
      health: messagingHealth(),
      capabilities: capabilitiesOf(backend),
      ...(backend.driver === 'extstorage' && base.diagnose ? { providers: await base.diagnose() } : {}),
    });
    const hb = new Heartbeat(
      db,
      { binary: Binary.volume, host, zone: config.availabilityZone, report },
      config.heartbeatSeconds * 1000,
      log,
    );
    await hb.start();
    stops.push(() => hb.stop());
  }

  if (roles.backupWorker) {
    // Reads and writes volumes through their backends' drivers, so it serves every configured backend.
    const drivers = new Map(config.backends.map((b) => [b.name, driverFor(b)] as const));
    const backupLog = log.child({ part: 'backup' });
    const backups = {
      store: new ChunkedBackupStore(config.backupDir, config.backupChunkBytes, config.faultDriverDelayMs),
      driverFor: (b: string) => drivers.get(b),
      log: backupLog,
    };
    await fs.mkdir(config.backupDir, { recursive: true });
    const runner = new TaskRunner(
      db,
      [...drivers.values()][0]!,
      {
        owner: `${config.hostname}@backup:${process.pid}`,
        leaseSeconds: config.taskLeaseSeconds,
        env: { backups },
      },
      backupLog,
    );
    await transport.consume(BACKUP_QUEUE, runner.handle, 4);
    const hb = new Heartbeat(
      db,
      { binary: Binary.backup, host: config.hostname, zone: config.availabilityZone, report: () => ({}) },
      config.heartbeatSeconds * 1000,
      log,
    );
    await hb.start();
    stops.push(() => hb.stop());
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (roles.api) {
    // Remembers the caller on the response, for the access log's user and project (src/http/shared/accessLog.ts).
    const authenticate = rememberingIdentity(authenticatorFor(config, log.child({ part: 'auth' })));
    // The compute (Nova) API: same listener, same authenticate dependency (src/http/nova).
    const idempotency = new Idempotency(db, metrics);
    // Keys expire after 24 h: expired rows are deleted every 10 minutes (a retry never sees one: it is taken over).
    const cleanup = setInterval(() => {
      idempotency.cleanup().catch((err) => log.warn({ err: (err as Error).message }, 'idempotency key cleanup failed'));
    }, 600_000);
    cleanup.unref();
    stops.push(() => clearInterval(cleanup));
    if (config.taskRetentionDays > 0) stops.push(purgeHourly(db, config.taskRetentionDays, log.child({ part: 'retention' })));
    // The services, built once for the three APIs (src/services/index.ts).
    const services = createServices({ db, config, notifier });
    const compute = createCompute({ db, config, notifier }, services, authenticate, log.child({ part: 'compute' }), idempotency);
    const app = createApp({
      routes: buildRoutes({ db, config, notifier }, services),
      authenticate,
      compute: compute.router,
      images: config.glanceUrl ? undefined : createImageApi({ db, config }, authenticate, log.child({ part: 'images' })),
      log: log.child({ part: 'api' }),
      metrics,
      health,
      idempotency,
      console: consoleRouter(config, log.child({ part: 'console' })),
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = answerClientErrors(app.listen(config.port, config.host, () => resolve(s)));
      s.once('error', reject);
    });
    server.keepAliveTimeout = 65_000;
    // Nova's and Glance's own ports, where a catalog of a real deployment points: the same app, with that
    // service's version document at the root (src/http/listeners.ts).
    for (const [service, port] of [
      ['compute', config.computePort],
      ['image', config.imagePort],
    ] as const) {
      if (port === undefined) continue;
      const extra = await new Promise<Server>((resolve, reject) => {
        const s = answerClientErrors(serviceRootApp(service, app).listen(port, config.host, () => resolve(s)));
        s.once('error', reject);
      });
      stops.push(
        () =>
          new Promise<void>((resolve) => {
            extra.close(() => resolve());
            extra.closeAllConnections();
          }),
      );
    }
    const addr = server.address();
    url = typeof addr === 'object' && addr ? `http://${config.host}:${addr.port}` : undefined;
    const hb = new Heartbeat(
      db,
      { binary: Binary.scheduler, host: config.hostname, zone: config.availabilityZone, report: () => ({ health: messagingHealth() }) },
      config.heartbeatSeconds * 1000,
      log,
    );
    await hb.start();
    stops.push(() => hb.stop());
    relay!.start();
    sweeper!.start();
    compute.start();
    stops.push(() => compute.stop());
  }

  // A worker's own listener: readiness for its supervisor and its metrics for Prometheus.
  let statusServer: Server | undefined;
  let statusUrl: string | undefined;
  if (!roles.api && config.workerPort !== undefined) {
    const app = express();
    app.disable('x-powered-by');
    app.get('/metrics', metrics.handler);
    const healthcheck = healthEndpoint(health);
    app.get('/healthcheck', (req, res, next) => {
      healthcheck(req, res).catch(next);
    });
    app.head('/healthcheck', (req, res, next) => {
      healthcheck(req, res).catch(next);
    });
    statusServer = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.workerPort!, config.host, () => resolve(s));
      s.once('error', reject);
    });
    const addr = statusServer.address();
    statusUrl = typeof addr === 'object' && addr ? `http://${config.host}:${addr.port}` : undefined;
  }

  return {
    db,
    config,
    log,
    server,
    url,
    relay,
    sweeper,
    metrics,
    health,
    statusUrl,
    async stop() {
      if (statusServer)
        await new Promise<void>((resolve) => {
          statusServer!.close(() => resolve());
          statusServer!.closeAllConnections();
        });
      if (server)
        await new Promise<void>((resolve) => {
          server!.close(() => resolve());
          server!.closeAllConnections();
        });
      for (const s of stops) await s();
      await sweeper?.stop();
      await relay?.stop();
      await transport.close();
      await db.destroy();
    },
  };
}
