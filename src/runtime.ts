import { serviceRootApp } from './serviceListeners';
import type { Server } from 'node:http';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createApp } from './app';
import type { Config } from './config';
import { migrateLatest, openDb, type Db } from './db/connection';
import { PgliteMaintenance, usesPglite } from './db/pgliteMaintenance';
import { authenticatorFor } from './auth';
import { buildRoutes } from './routes';
import { createCompute } from './compute';
import { createImageApi } from './images/api';
import { imageServiceOf } from './images';
import type { TaskNotifier } from './services/deps';
import { capabilitiesOf } from './services/placement';
import { Binary } from './services/serviceRegistry';
import { AmqpTransport } from './workers/amqpTransport';
import { driverFor } from './workers/drivers';
import { delayedDriver } from './workers/drivers/delayed';
import { Heartbeat } from './workers/heartbeat';
import { InProcessTransport } from './workers/inProcessTransport';
import { Relay } from './workers/relay';
import { Sweeper } from './workers/sweeper';
import { TaskRunner } from './workers/taskRunner';
import type { Transport } from './workers/transport';

export interface RuntimeRoles {
  /** Serve HTTP, and run the relay and sweeper that belong with it. */
  readonly api: boolean;
  /** Backends whose tasks this process executes. */
  readonly workerBackends: readonly string[];
  /** Apply migrations at start (the API and all-in-one do; `cairn-manage db migrate` too). */
  readonly migrate: boolean;
}

export interface Runtime {
  readonly db: Db;
  readonly config: Config;
  readonly log: Logger;
  readonly server?: Server;
  readonly url?: string;
  readonly relay?: Relay;
  readonly sweeper?: Sweeper;
  stop(): Promise<void>;
}

export function makeLogger(config: Config, name: string): Logger {
  return pino({ name, level: config.logLevel });
}

/** Builds and starts the processes' parts: the same code for all-in-one and distributed. */
export async function startRuntime(config: Config, roles: RuntimeRoles, log = makeLogger(config, 'cairn')): Promise<Runtime> {
  const db = openDb(config);
  if (roles.migrate) await migrateLatest(db);
  let transport: Transport;
  if (config.amqpUrl) {
    const amqp = await AmqpTransport.connect(config.amqpUrl, config.amqpPrefix, log.child({ part: 'amqp' }));
    // No silent half-life: a process that lost its broker exits, and its supervisor restarts it.
    amqp.onClose((err) => { log.fatal({ err }, 'lost the AMQP connection; exiting'); process.exit(70); });
    transport = amqp;
  } else {
    transport = new InProcessTransport();
  }
  const stops: Array<() => Promise<void> | void> = [];
  // PGlite is PostgreSQL in single-user mode, without autovacuum: do its work (src/db/pgliteMaintenance.ts).
  if (usesPglite(config)) {
    const maintenance = new PgliteMaintenance(db, log.child({ part: 'maintenance' }));
    maintenance.start();
    stops.push(() => maintenance.stop());
  }

  let relay: Relay | undefined;
  let sweeper: Sweeper | undefined;
  let notifier: TaskNotifier = { tasksWritten: () => undefined };
  if (roles.api) {
    relay = new Relay(db, transport, log.child({ part: 'relay' }));
    notifier = relay;
    sweeper = new Sweeper(db, relay, log.child({ part: 'sweeper' }), {
      intervalMs: Math.max(250, Math.min(5000, config.taskLeaseSeconds * 250)),
      republishAfterMs: Math.max(10_000, config.taskLeaseSeconds * 5000),
      unclaimedTimeoutMs: config.taskUnclaimedTimeoutSeconds * 1000,
    });
  }

  for (const name of roles.workerBackends) {
    const backend = config.backends.find((b) => b.name === name);
    if (!backend) throw new Error(`unknown backend ${name}; configured: ${config.backends.map((b) => b.name).join(', ')}`);
    const host = `${config.hostname}@${backend.name}`;
    const base = driverFor(backend);
    const driver = config.faultDriverDelayMs > 0 ? delayedDriver(base, config.faultDriverDelayMs) : base;
    // Volumes from images and uploads to images: the image service, and a download folder on the backend's storage.
    const env = { images: imageServiceOf({ db, config }), scratchDir: path.join(backend.fileStorageDir, '.image-downloads') };
    const runner = new TaskRunner(db, driver, { owner: `${host}:${process.pid}`, leaseSeconds: config.taskLeaseSeconds, env },
      log.child({ part: 'worker', backend: backend.name }));
    await transport.consume(backend.name, runner.handle, 16);
    // ExtStorage workers advertise their providers (validity, checksum, parameters): the API checks creates
    // against them and `cairn-manage storage diagnose` compares them across hosts.
    const report = async () => ({
      capabilities: capabilitiesOf(backend),
      ...(backend.driver === 'extstorage' && base.diagnose ? { providers: await base.diagnose() } : {}),
    });
    const hb = new Heartbeat(db, { binary: Binary.volume, host, zone: config.availabilityZone, report },
      config.heartbeatSeconds * 1000, log);
    await hb.start();
    stops.push(() => hb.stop());
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (roles.api) {
    const authenticate = authenticatorFor(config, log.child({ part: 'auth' }));
    // The compute (Nova) API: same listener, same authenticate dependency (src/compute).
    const compute = createCompute({ db, config, notifier }, authenticate, log.child({ part: 'compute' }));
    const app = createApp({
      routes: buildRoutes({ db, config, notifier }),
      authenticate,
      compute: compute.router,
      images: config.glanceUrl ? undefined : createImageApi({ db, config }, authenticate, log.child({ part: 'images' })),
      log: log.child({ part: 'api' }),
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    server.keepAliveTimeout = 65_000;
    // Nova's and Glance's own ports, where a catalog of a real deployment points: the same app, with that
    // service's version document at the root (src/serviceListeners.ts).
    for (const [service, port] of [['compute', config.computePort], ['image', config.imagePort]] as const) {
      if (port === undefined) continue;
      const extra = await new Promise<Server>((resolve, reject) => {
        const s = serviceRootApp(service, app).listen(port, config.host, () => resolve(s));
        s.once('error', reject);
      });
      stops.push(() => new Promise<void>((resolve) => { extra.close(() => resolve()); extra.closeAllConnections(); }));
    }
    const addr = server.address();
    url = typeof addr === 'object' && addr ? `http://${config.host}:${addr.port}` : undefined;
    const hb = new Heartbeat(db, { binary: Binary.scheduler, host: config.hostname, zone: config.availabilityZone, report: () => ({}) },
      config.heartbeatSeconds * 1000, log);
    await hb.start();
    stops.push(() => hb.stop());
    relay!.start();
    sweeper!.start();
    compute.start();
    stops.push(() => compute.stop());
  }

  return {
    db, config, log, server, url, relay, sweeper,
    async stop() {
      if (server) await new Promise<void>((resolve) => { server!.close(() => resolve()); server!.closeAllConnections(); });
      for (const s of stops) await s();
      await sweeper?.stop();
      await relay?.stop();
      await transport.close();
      await db.destroy();
    },
  };
}
