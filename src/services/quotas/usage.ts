/**
 * Limits and usage of a project, as quota keys. Usage is always summed from
 * the resource tables (no usage cache, nothing to drift); limits are the
 * project's rows over the `default` class over Cinder's built-in defaults.
 */
import {
  BUILTIN_DEFAULTS,
  DEFAULT_QUOTA_CLASS,
  GLOBAL_RESOURCES,
  GROUP_RESOURCES,
  PER_TYPE_DEFAULT,
  quotaKeys,
  type GlobalResource,
} from '../../domain/quota';
import type { Conn } from '../../db/connection';
import * as quotasDb from '../../db/quotas';

export interface QuotaType {
  readonly id: string;
  readonly name: string;
}

export type LimitSource = 'project' | 'class' | 'builtin';

export interface ProjectQuota {
  /** Every key in Cinder's order. */
  readonly keys: readonly string[];
  readonly limit: Readonly<Record<string, number>>;
  readonly source: Readonly<Record<string, LimitSource>>;
}

const toMap = (rows: quotasDb.DbQuotaLimit[]) => new Map(rows.map((r) => [r.resource, r.hard_limit]));

/** The `default` class over the built-in defaults, for every key of these types. */
export async function defaultLimits(conn: Conn, types: readonly QuotaType[], className = DEFAULT_QUOTA_CLASS): Promise<ProjectQuota> {
  const cls = toMap(await quotasDb.classLimits(conn, className));
  // A class other than `default` falls back to the default class, as Cinder's get_class_quotas does.
  const dflt = className === DEFAULT_QUOTA_CLASS ? cls : toMap(await quotasDb.classLimits(conn, DEFAULT_QUOTA_CLASS));
  return classOverBuiltins(types, cls, dflt);
}

function classOverBuiltins(types: readonly QuotaType[], cls: Map<string, number>, dflt: Map<string, number>): ProjectQuota {
  const keys = quotaKeys(types.map((t) => t.name));
  const limit: Record<string, number> = {};
  const source: Record<string, LimitSource> = {};
  for (const k of keys) {
    const v = cls.get(k) ?? dflt.get(k);
    limit[k] = v ?? BUILTIN_DEFAULTS[k as GlobalResource] ?? PER_TYPE_DEFAULT;
    source[k] = v === undefined ? 'builtin' : 'class';
  }
  return { keys, limit, source };
}

/** A project's effective limits: its own over the `default` class's over the built-in defaults. */
export async function projectLimits(conn: Conn, projectId: string, types: readonly QuotaType[]): Promise<ProjectQuota> {
  const limits = await quotasDb.classAndProjectLimits(conn, DEFAULT_QUOTA_CLASS, projectId);
  const cls = toMap(limits.cls);
  const base = classOverBuiltins(types, cls, cls);
  const own = toMap(limits.own);
  const limit = { ...base.limit };
  const source = { ...base.source };
  for (const k of base.keys) {
    const v = own.get(k);
    if (v !== undefined) {
      limit[k] = v;
      source[k] = 'project';
    }
  }
  return { keys: base.keys, limit, source };
}

/** What the project uses now, per quota key (0 for keys nothing consumes yet). */
export async function projectUsage(conn: Conn, projectId: string, types: readonly QuotaType[]): Promise<Record<string, number>> {
  const names = new Map(types.map((t) => [t.id, t.name]));
  const used: Record<string, number> = Object.fromEntries(quotaKeys(types.map((t) => t.name)).map((k) => [k, 0]));
  const add = (k: string, n: number) => {
    used[k] = (used[k] ?? 0) + n;
  };
  for (const row of await quotasDb.projectUsage(conn, projectId)) {
    // Snapshots' GiB count into `gigabytes` too (Cinder's default `no_snapshot_gb_quota = False`).
    const counted = row.table === 'backups' ? 'backup_gigabytes' : row.table === 'groups' ? undefined : 'gigabytes';
    add(row.table, row.count);
    if (counted) add(counted, row.gigabytes);
    if (row.table !== 'volumes' && row.table !== 'snapshots') continue;
    const name = names.get(row.volume_type_id!);
    // A type deleted with volumes left cannot happen (type delete refuses); if it did, the totals still count them.
    if (name === undefined) continue;
    add(`${row.table}_${name}`, row.count);
    add(`gigabytes_${name}`, row.gigabytes);
  }
  used.per_volume_gigabytes = 0; // a per-request limit: nothing is "in use"
  return used;
}

export async function quotaTypes(conn: Conn): Promise<QuotaType[]> {
  return quotasDb.quotaTypes(conn);
}

/** Keys a quota set may name for these types (the per-type keys of types that exist). */
export function knownKeys(types: readonly QuotaType[]): Set<string> {
  return new Set([...GLOBAL_RESOURCES, ...GROUP_RESOURCES, ...quotaKeys(types.map((t) => t.name))]);
}
