import os from 'node:os';
import path from 'node:path';
import { keystoneSettings, type KeystoneSettings } from './keystone';

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

/**
 * Glance's image limits over cairn's own store (`glance/common/config.py`): `image_size_cap` (bytes, default 1 TiB),
 * `user_storage_quota` (bytes a project's images may hold, 0: unlimited), `image_property_quota` and
 * `image_tag_quota` (per image, default 128 each, negative: unlimited).
 */
export interface ImageLimits {
  readonly sizeCap: number;
  readonly userStorageQuota: number;
  readonly propertyQuota: number;
  readonly tagQuota: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { sizeCap: 1024 ** 4, userStorageQuota: 0, propertyQuota: 128, tagQuota: 128 };

export type AuthStrategy = 'noauth' | 'keystone';

/** RabbitMQ queue types cairn can declare its task queues as (README, "Configuration"). */
export const AMQP_QUEUE_TYPES = ['classic', 'quorum'] as const;
export type AmqpQueueType = (typeof AMQP_QUEUE_TYPES)[number];
export const DEFAULT_AMQP_QUEUE_TYPE: AmqpQueueType = 'classic';

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
  /** The type of the task queues cairn declares (`CAIRN_AMQP_QUEUE_TYPE`); an existing queue keeps its own. */
  readonly amqpQueueType: AmqpQueueType;
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
  /** Lease lapses (a paused or cut-off worker, a database outage) a task survives; they do not spend attempts. */
  readonly taskMaxLapses: number;
  /** Seconds a task may wait for a worker before it fails (no live worker for its backend). */
  readonly taskUnclaimedTimeoutSeconds: number;
  /** Finished tasks are deleted this many days after they finished (0: kept); see src/services/retention.ts. */
  readonly taskRetentionDays: number;
  readonly heartbeatSeconds: number;
  /** A service is "down" when its heartbeat is older than this. */
  readonly serviceDownSeconds: number;
  readonly logLevel: string;
  /** Test-only fault injection: workers pause this long after each driver operation. */
  readonly faultDriverDelayMs: number;
  /** Fault injection for tests: a pause after each 8 MiB read of a file backend's copy (so a test can catch it mid-copy). */
  readonly faultCopyDelayMs: number;
  /** An external Glance (unversioned, e.g. http://glance:9292) images are read from and uploaded to; unset → cairn's own store. */
  readonly glanceUrl: string | undefined;
  /** Extra listeners on the API's host where clients look for Nova (8774) and Glance (9292): off unless set. */
  readonly computePort: number | undefined;
  readonly imagePort: number | undefined;
  /** cairn's own image store: the data files (`<imageDir>/<image id>`). */
  readonly imageDir: string;
  /** Glance's limits on cairn's own image store (`CAIRN_IMAGE_SIZE_CAP`, `CAIRN_USER_STORAGE_QUOTA`, …). */
  readonly imageLimits: ImageLimits;
  /** Cinder's `enable_force_upload`: whether `os-volume_upload_image` with `force` may upload an in-use volume. */
  readonly enableForceUpload: boolean;
  /** `cairn worker`'s own listener for `/healthcheck` and `/metrics` (undefined: none; the all-in-one's API serves both). */
  readonly workerPort: number | undefined;
  /** The backup service's POSIX target (`CAIRN_BACKUP_DIR`): one folder per container, one per backup below it. */
  readonly backupDir: string;
  /** Chunk size of new backups, bytes (`CAIRN_BACKUP_CHUNK_MIB`, default 32). */
  readonly backupChunkBytes: number;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/** An integer that may be negative (Glance's quotas: negative means unlimited). */
function signedInt(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`${name} must be an integer, got ${raw}`);
  return Number(raw);
}

/** Glance's `user_storage_quota` syntax: a byte count with an optional unit B, KB, MB, GB or TB (powers of 1024). */
function byteSize(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const m = /^\s*(\d+)\s*(B|KB|MB|GB|TB)?\s*$/.exec(raw);
  if (!m) throw new Error(`${name} must be a byte count with an optional unit (B, KB, MB, GB, TB), got ${raw}`);
  const n = Number(m[1]) * 1024 ** ['B', 'KB', 'MB', 'GB', 'TB'].indexOf(m[2] ?? 'B');
  if (!Number.isSafeInteger(n)) throw new Error(`${name} is too large: ${raw}`);
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
  const names = (env.CAIRN_BACKENDS ?? 'file')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Ganeti's ES_SEARCH_PATH; the repository's examples/extstorage only when named (they are for tests and trials).
  const extstorage: ExtStorageConfig = {
    searchPath: (env.CAIRN_EXTSTORAGE_PATH || path.join(dataDir, 'extstorage'))
      .split(':')
      .filter(Boolean)
      .map((p) => path.resolve(p)),
    timeoutSeconds: int(env, 'CAIRN_EXTSTORAGE_TIMEOUT_SECONDS', 300),
  };
  const backends = names.map((name): BackendConfig => {
    const driver = env[`CAIRN_BACKEND_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DRIVER`] || 'file';
    if (driver !== 'file' && driver !== 'extstorage') throw new Error(`backend ${name}: driver must be file or extstorage, got ${driver}`);
    return {
      name,
      driver,
      fileStorageDir: path.resolve(
        env[`CAIRN_BACKEND_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DIR`] ?? path.join(dataDir, 'volumes', name),
      ),
      ...(driver === 'extstorage' ? { extstorage } : {}),
    };
  });
  // The backup service's queue is `cinder-backup` (services/backupRecords.ts): no backend may take that name.
  if (names.includes('cinder-backup')) throw new Error("CAIRN_BACKENDS: cinder-backup is the backup service's queue, not a backend name");
  const chunkMib = Number(env.CAIRN_BACKUP_CHUNK_MIB ?? '32');
  if (!(chunkMib > 0) || !Number.isInteger(chunkMib * 16))
    throw new Error(`CAIRN_BACKUP_CHUNK_MIB must be a positive multiple of 1/16, got ${env.CAIRN_BACKUP_CHUNK_MIB}`);
  const queueType = env.CAIRN_AMQP_QUEUE_TYPE || DEFAULT_AMQP_QUEUE_TYPE;
  if (!(AMQP_QUEUE_TYPES as readonly string[]).includes(queueType))
    throw new Error(`CAIRN_AMQP_QUEUE_TYPE must be ${AMQP_QUEUE_TYPES.join(' or ')}, got ${queueType}`);
  const auth = env.AUTH_STRATEGY ?? 'noauth';
  if (auth !== 'noauth' && auth !== 'keystone') throw new Error(`AUTH_STRATEGY must be noauth or keystone, got ${auth}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 8776),
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    amqpUrl: env.AMQP_URL || undefined,
    amqpPrefix: env.CAIRN_AMQP_PREFIX ?? 'cairn',
    amqpQueueType: queueType as AmqpQueueType,
    authStrategy: auth,
    keystone: auth === 'keystone' ? keystoneSettings(env) : undefined,
    availabilityZone: env.CAIRN_AVAILABILITY_ZONE ?? 'nova',
    hostname: env.CAIRN_HOSTNAME ?? os.hostname(),
    backends,
    defaultBackend: env.CAIRN_DEFAULT_BACKEND ?? backends[0]?.name ?? 'file',
    extstorage,
    taskLeaseSeconds: int(env, 'CAIRN_TASK_LEASE_SECONDS', 60),
    taskMaxAttempts: int(env, 'CAIRN_TASK_MAX_ATTEMPTS', 5),
    taskMaxLapses: int(env, 'CAIRN_TASK_MAX_LAPSES', 20),
    taskUnclaimedTimeoutSeconds: int(env, 'CAIRN_TASK_UNCLAIMED_TIMEOUT_SECONDS', 600),
    taskRetentionDays: int(env, 'CAIRN_TASK_RETENTION_DAYS', 7),
    heartbeatSeconds: int(env, 'CAIRN_HEARTBEAT_SECONDS', 10),
    serviceDownSeconds: int(env, 'CAIRN_SERVICE_DOWN_SECONDS', 60),
    logLevel: env.LOG_LEVEL ?? 'info',
    faultDriverDelayMs: int(env, 'CAIRN_FAULT_DRIVER_DELAY_MS', 0),
    faultCopyDelayMs: int(env, 'CAIRN_FAULT_COPY_DELAY_MS', 0),
    glanceUrl: env.CAIRN_GLANCE_URL ? env.CAIRN_GLANCE_URL.replace(/\/+$/, '') : undefined,
    computePort: env.CAIRN_COMPUTE_PORT ? Number(env.CAIRN_COMPUTE_PORT) : undefined,
    imagePort: env.CAIRN_IMAGE_PORT ? Number(env.CAIRN_IMAGE_PORT) : undefined,
    imageDir: path.resolve(env.CAIRN_IMAGE_DIR || path.join(dataDir, 'images')),
    imageLimits: {
      sizeCap: byteSize(env, 'CAIRN_IMAGE_SIZE_CAP', DEFAULT_IMAGE_LIMITS.sizeCap),
      userStorageQuota: byteSize(env, 'CAIRN_USER_STORAGE_QUOTA', DEFAULT_IMAGE_LIMITS.userStorageQuota),
      propertyQuota: signedInt(env, 'CAIRN_IMAGE_PROPERTY_QUOTA', DEFAULT_IMAGE_LIMITS.propertyQuota),
      tagQuota: signedInt(env, 'CAIRN_IMAGE_TAG_QUOTA', DEFAULT_IMAGE_LIMITS.tagQuota),
    },
    enableForceUpload: ['1', 'true', 'yes'].includes((env.CAIRN_ENABLE_FORCE_UPLOAD ?? '').toLowerCase()),
    workerPort: env.CAIRN_WORKER_PORT ? int(env, 'CAIRN_WORKER_PORT', 0) : undefined,
    backupDir: path.resolve(env.CAIRN_BACKUP_DIR || path.join(dataDir, 'backups')),
    backupChunkBytes: chunkMib * 1024 * 1024,
  };
}
