import os from 'node:os';
import path from 'node:path';
import { keystoneSettings, type KeystoneSettings } from './auth/settings';

/** One storage backend: a name (the volume host's `@backend` part) and its driver. */
export interface BackendConfig {
  readonly name: string;
  readonly driver: 'file' | 'extstorage';
  /** Ganeti's file_storage_dir: every volume file lives below it. */
  readonly fileStorageDir: string;
  /** Set for `extstorage` backends. */
  readonly extstorage?: ExtStorageConfig;
}

/** Where ExtStorage providers live on this host, and how long one script may run. */
export interface ExtStorageConfig {
  readonly searchPath: readonly string[];
  readonly timeoutSeconds: number;
}

export type AuthStrategy = 'noauth' | 'keystone';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** postgres://… for PostgreSQL; undefined → embedded PGlite under dataDir. */
  readonly databaseUrl: string | undefined;
  /** amqp://… for RabbitMQ; undefined → in-process transport. */
  readonly amqpUrl: string | undefined;
  /** Prefix for exchange and queue names, so suites and clusters can share a broker. */
  readonly amqpPrefix: string;
  readonly authStrategy: AuthStrategy;
  /** Where and as whom to validate tokens; set when authStrategy is keystone. */
  readonly keystone: KeystoneSettings | undefined;
  readonly availabilityZone: string;
  readonly hostname: string;
  readonly backends: readonly BackendConfig[];
  readonly defaultBackend: string;
  readonly extstorage: ExtStorageConfig;
  /** Seconds a worker holds a task before the sweeper may hand it to another. */
  readonly taskLeaseSeconds: number;
  readonly taskMaxAttempts: number;
  /** Seconds a task may wait for a worker before it fails (no live worker for its backend). */
  readonly taskUnclaimedTimeoutSeconds: number;
  readonly heartbeatSeconds: number;
  /** A service is "down" when its heartbeat is older than this. */
  readonly serviceDownSeconds: number;
  readonly logLevel: string;
  /** Test-only fault injection: workers pause this long after each driver operation. */
  readonly faultDriverDelayMs: number;
  /** An external Glance (unversioned, e.g. http://glance:9292) images are read from and uploaded to; unset → cairn's own store. */
  readonly glanceUrl: string | undefined;
  /** Extra listeners on the API's host where clients look for Nova (8774) and Glance (9292): off unless set. */
  readonly computePort: number | undefined;
  readonly imagePort: number | undefined;
  /** cairn's own image store: the data files (`<imageDir>/<image id>`). */
  readonly imageDir: string;
  /** Cinder's `enable_force_upload`: whether `os-volume_upload_image` with `force` may upload an in-use volume. */
  readonly enableForceUpload: boolean;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/**
 * Reads the environment once. Backends: `CAIRN_BACKENDS=name[,name…]`, each a
 * file backend under `<dataDir>/volumes/<name>` unless
 * `CAIRN_BACKEND_<NAME>_DIR` says otherwise; `CAIRN_BACKEND_<NAME>_DRIVER=extstorage`
 * makes it run Ganeti ExtStorage providers from `CAIRN_EXTSTORAGE_PATH`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.CAIRN_DATA_DIR ?? 'data');
  const names = (env.CAIRN_BACKENDS ?? 'file').split(',').map((s) => s.trim()).filter(Boolean);
  // Ganeti's ES_SEARCH_PATH; the repository's examples/extstorage only when named (they are for tests and trials).
  const extstorage: ExtStorageConfig = {
    searchPath: (env.CAIRN_EXTSTORAGE_PATH || path.join(dataDir, 'extstorage')).split(':').filter(Boolean).map((p) => path.resolve(p)),
    timeoutSeconds: int(env, 'CAIRN_EXTSTORAGE_TIMEOUT_SECONDS', 300),
  };
  const backends = names.map((name): BackendConfig => {
    const driver = env[`CAIRN_BACKEND_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DRIVER`] || 'file';
    if (driver !== 'file' && driver !== 'extstorage') throw new Error(`backend ${name}: driver must be file or extstorage, got ${driver}`);
    return {
      name,
      driver,
      fileStorageDir: path.resolve(
        env[`CAIRN_BACKEND_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DIR`] ?? path.join(dataDir, 'volumes', name)),
      ...(driver === 'extstorage' ? { extstorage } : {}),
    };
  });
  const auth = env.AUTH_STRATEGY ?? 'noauth';
  if (auth !== 'noauth' && auth !== 'keystone') throw new Error(`AUTH_STRATEGY must be noauth or keystone, got ${auth}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 8776),
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    amqpUrl: env.AMQP_URL || undefined,
    amqpPrefix: env.CAIRN_AMQP_PREFIX ?? 'cairn',
    authStrategy: auth,
    keystone: auth === 'keystone' ? keystoneSettings(env) : undefined,
    availabilityZone: env.CAIRN_AVAILABILITY_ZONE ?? 'nova',
    hostname: env.CAIRN_HOSTNAME ?? os.hostname(),
    backends,
    defaultBackend: env.CAIRN_DEFAULT_BACKEND ?? backends[0]?.name ?? 'file',
    extstorage,
    taskLeaseSeconds: int(env, 'CAIRN_TASK_LEASE_SECONDS', 60),
    taskMaxAttempts: int(env, 'CAIRN_TASK_MAX_ATTEMPTS', 5),
    taskUnclaimedTimeoutSeconds: int(env, 'CAIRN_TASK_UNCLAIMED_TIMEOUT_SECONDS', 600),
    heartbeatSeconds: int(env, 'CAIRN_HEARTBEAT_SECONDS', 10),
    serviceDownSeconds: int(env, 'CAIRN_SERVICE_DOWN_SECONDS', 60),
    logLevel: env.LOG_LEVEL ?? 'info',
    faultDriverDelayMs: int(env, 'CAIRN_FAULT_DRIVER_DELAY_MS', 0),
    glanceUrl: env.CAIRN_GLANCE_URL ? env.CAIRN_GLANCE_URL.replace(/\/+$/, '') : undefined,
    computePort: env.CAIRN_COMPUTE_PORT ? Number(env.CAIRN_COMPUTE_PORT) : undefined,
    imagePort: env.CAIRN_IMAGE_PORT ? Number(env.CAIRN_IMAGE_PORT) : undefined,
    imageDir: path.resolve(env.CAIRN_IMAGE_DIR || path.join(dataDir, 'images')),
    enableForceUpload: ['1', 'true', 'yes'].includes((env.CAIRN_ENABLE_FORCE_UPLOAD ?? '').toLowerCase()),
  };
}
