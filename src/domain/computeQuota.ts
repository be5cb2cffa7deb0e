/**
 * Nova's quota resources, their defaults, which microversions show which,
 * and the texts of Nova's quota refusals (`nova/quota.py`,
 * `nova/conf/quota.py`, `api/openstack/compute/quota_sets.py`,
 * `quota_classes.py`, `limits.py`, `views/limits.py`, `nova/exception.py`).
 * The limits live in the same `quotas` / `quota_classes` rows as Cinder's,
 * under Nova's resource names, which no Cinder key can take (Cinder's keys
 * are its six globals, `groups`, and `volumes_`/`gigabytes_`/`snapshots_`
 * plus a type name). Pure: no I/O.
 */
import { atLeast, type ApiVersion } from './microversion';
import { badRequest, ApiError } from './errors';

/** Every resource, in the order Nova's quota sets list them (`QuotaEngine.resources` is sorted). */
export const COMPUTE_RESOURCES = [
  'cores',
  'fixed_ips',
  'floating_ips',
  'injected_file_content_bytes',
  'injected_file_path_bytes',
  'injected_files',
  'instances',
  'key_pairs',
  'metadata_items',
  'ram',
  'security_group_rules',
  'security_groups',
  'server_group_members',
  'server_groups',
] as const;
export type ComputeResource = (typeof COMPUTE_RESOURCES)[number];

export const isComputeResource = (key: string): key is ComputeResource => (COMPUTE_RESOURCES as readonly string[]).includes(key);

/**
 * Nova's `[quota]` defaults; the nova-network leftovers have no option and
 * are unlimited (`BaseResource.default` without a flag is -1).
 */
export const COMPUTE_DEFAULTS: Readonly<Record<ComputeResource, number>> = {
  cores: 20,
  fixed_ips: -1,
  floating_ips: -1,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  injected_files: 5,
  instances: 10,
  key_pairs: 100,
  metadata_items: 128,
  ram: 51200,
  security_group_rules: -1,
  security_groups: -1,
  server_group_members: 10,
  server_groups: 10,
};

const NETWORK = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const INJECTED = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** Resources an `os-quota-sets` body or answer has at `v` (2.36 drops the network ones, 2.57 the injected files). */
export function quotaSetResources(v: ApiVersion): ComputeResource[] {
  const hidden = atLeast(v, 2, 57) ? [...NETWORK, ...INJECTED] : atLeast(v, 2, 36) ? NETWORK : [];
  return COMPUTE_RESOURCES.filter((r) => !hidden.includes(r));
}

/**
 * Resources an `os-quota-class-sets` answer has at `v`: before 2.50 without
 * the server group ones (a v2.1 porting slip, bug 1693168), from 2.50
 * without the network ones, from 2.57 without the injected files.
 */
export function quotaClassSetResources(v: ApiVersion): ComputeResource[] {
  if (!atLeast(v, 2, 50)) return COMPUTE_RESOURCES.filter((r) => r !== 'server_groups' && r !== 'server_group_members');
  const hidden = atLeast(v, 2, 57) ? [...NETWORK, ...INJECTED] : NETWORK;
  return COMPUTE_RESOURCES.filter((r) => !hidden.includes(r));
}

/** Resources an `os-quota-class-sets` body may set at `v` (before 2.50 the server group ones are accepted, not shown). */
export function quotaClassSetSettable(v: ApiVersion): ComputeResource[] {
  return atLeast(v, 2, 50) ? quotaClassSetResources(v) : [...COMPUTE_RESOURCES];
}

/**
 * `GET /limits` absolute keys, each with the resource it shows and whether
 * it is a limit or a usage, in the order Nova's view builds them; `from` /
 * `until` bound the microversions that have it (`FILTERED_LIMITS_v236`,
 * `_v257`, and `maxImageMeta` until 2.38).
 */
interface AbsoluteKey {
  readonly name: string;
  readonly resource: ComputeResource;
  readonly used?: boolean;
  readonly until?: readonly [number, number];
}
const ABSOLUTE_KEYS: readonly AbsoluteKey[] = [
  { name: 'maxTotalCores', resource: 'cores' },
  { name: 'maxPersonality', resource: 'injected_files', until: [2, 56] },
  { name: 'maxPersonalitySize', resource: 'injected_file_content_bytes', until: [2, 56] },
  { name: 'maxTotalInstances', resource: 'instances' },
  { name: 'maxTotalKeypairs', resource: 'key_pairs' },
  { name: 'maxServerMeta', resource: 'metadata_items' },
  { name: 'maxImageMeta', resource: 'metadata_items', until: [2, 38] },
  { name: 'maxTotalRAMSize', resource: 'ram' },
  { name: 'maxServerGroups', resource: 'server_groups' },
  { name: 'maxServerGroupMembers', resource: 'server_group_members' },
  { name: 'maxTotalFloatingIps', resource: 'floating_ips', until: [2, 35] },
  { name: 'maxSecurityGroups', resource: 'security_groups', until: [2, 35] },
  { name: 'maxSecurityGroupRules', resource: 'security_group_rules', until: [2, 35] },
  { name: 'totalRAMUsed', resource: 'ram', used: true },
  { name: 'totalCoresUsed', resource: 'cores', used: true },
  { name: 'totalInstancesUsed', resource: 'instances', used: true },
  { name: 'totalFloatingIpsUsed', resource: 'floating_ips', used: true, until: [2, 35] },
  { name: 'totalSecurityGroupsUsed', resource: 'security_groups', used: true, until: [2, 35] },
  { name: 'totalServerGroupsUsed', resource: 'server_groups', used: true },
];

/** The `limits.absolute` object at `v`, from each resource's limit and use. */
export function absoluteLimits(
  v: ApiVersion,
  limit: Readonly<Record<string, number>>,
  used: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ABSOLUTE_KEYS) {
    if (k.until && atLeast(v, k.until[0], k.until[1] + 1)) continue;
    out[k.name] = k.used ? (used[k.resource] ?? 0) : limit[k.resource]!;
  }
  return out;
}

/**
 * A quota value from a body: Nova's schema takes an integer from -1 to int4
 * max, or a string of digits (whose sign the schema does not bound: `"-5"`
 * passes it and is then refused as below usage).
 */
export function parseComputeQuotaValue(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** `_validate_quota_limit`: a new limit below what is in use (-1, unlimited, is above everything). */
export const limitBelowUsage = (resource: string, limit: number, minimum: number) =>
  badRequest(`Quota limit ${limit} for ${resource} must be greater than or equal to already used and reserved ${minimum}.`);

/**
 * `TooManyInstances` (OverQuota) as `servers.py` answers it: 403 with the
 * over-quota resources sorted by name, and per resource what was asked, what
 * is used and what is allowed (`compute/utils.py:get_over_quota_detail`).
 */
export function tooManyInstances(overs: ReadonlyArray<{ resource: string; requested: number; used: number; allowed: number }>): ApiError {
  const sorted = [...overs].sort((a, b) => (a.resource < b.resource ? -1 : 1));
  const join = (f: (o: (typeof sorted)[number]) => string | number) => sorted.map(f).join(', ');
  const names = join((o) => o.resource);
  return new ApiError(
    403,
    'forbidden',
    `Quota exceeded for ${names}: Requested ${join((o) => o.requested)}, but already used ${join((o) => o.used)} of ${join((o) => o.allowed)} ${names}`,
  );
}

/** `MetadataLimitExceeded`, answered 403 by `servers.py`. */
export const metadataLimitExceeded = (allowed: number) =>
  new ApiError(403, 'forbidden', `Maximum number of metadata items exceeds ${allowed}`);
