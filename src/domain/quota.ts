/**
 * Quota resources, Cinder's defaults and the exact texts of its quota
 * refusals (`cinder/quota.py`, `cinder/quota_utils.py`, `cinder/exception.py`).
 * Pure: no I/O.
 */
import { ApiError, badRequest, overLimit } from './errors';

/** Project-wide resources, in the order Cinder's quota sets list them (per-type keys go before `groups`). */
export const GLOBAL_RESOURCES = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes'] as const;
export const GROUP_RESOURCES = ['groups'] as const;
/** The per-type resources, each `<name>_<volume type name>`. */
export const PER_TYPE_RESOURCES = ['volumes', 'gigabytes', 'snapshots'] as const;

export type GlobalResource = (typeof GLOBAL_RESOURCES)[number] | (typeof GROUP_RESOURCES)[number];

/** Cinder's built-in defaults (`quota_volumes`, …); the `default` quota class overrides them. */
export const BUILTIN_DEFAULTS: Readonly<Record<GlobalResource, number>> = {
  volumes: 10,
  per_volume_gigabytes: -1,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
};
/** A per-type key without any row is unlimited. */
export const PER_TYPE_DEFAULT = -1;
/** Keys a quota-set body may carry that are not quotas (`NON_QUOTA_KEYS`). */
export const NON_QUOTA_KEYS = new Set(['tenant_id', 'id']);
export const DEFAULT_QUOTA_CLASS = 'default';
/** PostgreSQL's int4, Cinder's `db.MAX_INT`. */
export const MAX_QUOTA = 0x7fffffff;

/** Every quota key for these volume type names, in Cinder's order. */
export function quotaKeys(typeNames: readonly string[]): string[] {
  return [...GLOBAL_RESOURCES, ...typeNames.flatMap((t) => PER_TYPE_RESOURCES.map((r) => `${r}_${t}`)), ...GROUP_RESOURCES];
}

/** Usage of one key: Cinder's `{limit, in_use, reserved}`; cairn reserves nothing ahead (the row is the charge). */
export interface QuotaUsageEntry {
  readonly limit: number;
  readonly in_use: number;
  readonly reserved: number;
}

/**
 * A value for a quota key, from a body: an integer or a string of one, from
 * -1 to int4 max (oslo's `validate_integer` texts, which Cinder answers as is).
 */
export function parseQuotaValue(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw badRequest(`${key} must be an integer.`);
  if (n < -1) throw badRequest(`${key} must be >= -1`);
  if (n > MAX_QUOTA) throw badRequest(`${key} must be <= ${MAX_QUOTA}`);
  return n;
}

/** Keys that name no quota (Cinder's `quota_set` format checker). */
export const badKeys = (what: 'quota set' | 'quota class set', keys: readonly string[]) =>
  badRequest(`Invalid input received: Bad key(s) in ${what}: ${keys.join(', ')}`);

/** `PUT os-quota-sets`: a limit below what is in use (`_validate_existing_resource`). */
export const belowUsage = (key: string, usage: number, limit: number) =>
  badRequest(
    `Quota ${key} limit must be equal or greater than existing resources. Current usage is ${usage} and the requested limit is ${limit}.`,
  );

/** 413 with the exception class name first, as Cinder renders its "safe" quota errors. */
const quotaError = (exceptionName: string, message: string): ApiError => overLimit(`${exceptionName}: ${message}`);

export const volumeSizeExceedsLimit = (size: number, limit: number) =>
  quotaError('VolumeSizeExceedsLimit', `Requested volume size ${size}G is larger than maximum allowed limit ${limit}G.`);

export const volumeSizeExceedsAvailableQuota = (name: string, requested: number, quota: number, consumed: number) =>
  quotaError(
    'VolumeSizeExceedsAvailableQuota',
    `Requested volume or snapshot exceeds allowed ${name} quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`,
  );

export const backupSizeExceedsAvailableQuota = (requested: number, quota: number, consumed: number) =>
  quotaError(
    'VolumeBackupSizeExceedsAvailableQuota',
    `Requested backup exceeds allowed Backup gigabytes quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`,
  );

/** The count-over refusal of each consuming resource (`OVER_QUOTA_RESOURCE_EXCEPTIONS`). */
export function countExceeded(resource: 'volumes' | 'snapshots' | 'backups' | 'groups', over: string, allowed: number): ApiError {
  switch (resource) {
    case 'volumes':
      return quotaError('VolumeLimitExceeded', `Maximum number of volumes allowed (${allowed}) exceeded for quota '${over}'.`);
    case 'snapshots':
      return quotaError('SnapshotLimitExceeded', `Maximum number of snapshots allowed (${allowed}) exceeded`);
    case 'backups':
      return quotaError('BackupLimitExceeded', `Maximum number of backups allowed (${allowed}) exceeded`);
    case 'groups':
      return quotaError('GroupLimitExceeded', `Maximum number of groups allowed (${allowed}) exceeded`);
  }
}

/** One requested change as Cinder's reserve sees it: key → delta, in insertion order. */
export interface Over {
  readonly key: string;
  readonly limit: number;
  readonly inUse: number;
  readonly delta: number;
}

/**
 * The first refusal for a reservation (`quota_utils.process_reserve_over_quota`):
 * Cinder's `quota_reserve` raises with the over-quota keys sorted by name,
 * and the first one decides: so a gigabytes key (naming the size requested)
 * wins over a count key (naming the count limit of the consuming `resource`).
 */
export function refusalFor(
  overs: readonly Over[],
  resource: 'volumes' | 'snapshots' | 'backups' | 'groups',
  size: number,
): ApiError | undefined {
  for (const o of [...overs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (o.key.includes('gigabytes')) {
      return resource === 'backups'
        ? backupSizeExceedsAvailableQuota(size, o.limit, o.inUse)
        : volumeSizeExceedsAvailableQuota(o.key, size, o.limit, o.inUse);
    }
    if (o.key.includes(resource)) return countExceeded(resource, o.key, o.limit);
  }
  return undefined;
}
