/**
 * Nova's quotas: `os-quota-sets`, `os-quota-class-sets`, `GET /limits`, and
 * the check a server create makes (`chargeServerQuota`). Limits are rows of
 * the same `quotas` / `quota_classes` tables as Cinder's, under Nova's
 * resource names; usage is never stored: instances, cores and RAM are
 * counted from the servers table under the project's quota lock, in the
 * transaction that inserts the server (the lock volume quota takes too).
 */
import {
  COMPUTE_DEFAULTS,
  COMPUTE_RESOURCES,
  isComputeResource,
  limitBelowUsage,
  metadataLimitExceeded,
  parseComputeQuotaValue,
  tooManyInstances,
  type ComputeResource,
} from '../../domain/computeQuota';
import { FLAVORS, type Flavor } from '../../domain/compute';
import { badRequest, forbidden } from '../../domain/errors';
import type { Conn, Tx } from '../../db/connection';
import * as quotasDb from '../../db/quotas';
import { DEFAULT_QUOTA_CLASS } from '../../domain/quota';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import type { RawQuery } from '../listQuery';

export type ComputeFigures = Record<ComputeResource, number>;

const POLICY = (op: string) => `os_compute_api:os-quota-sets:${op}`;

const pick = (rows: quotasDb.DbQuotaLimit[]) =>
  new Map(rows.filter((r) => isComputeResource(r.resource)).map((r) => [r.resource, r.hard_limit]));

/** A class's limits over the `default` class over Nova's defaults (`get_class_quotas`, `get_defaults`). */
export async function computeClassLimits(conn: Conn, className = DEFAULT_QUOTA_CLASS): Promise<ComputeFigures> {
  const dflt = pick(await quotasDb.classLimits(conn, DEFAULT_QUOTA_CLASS));
  const cls = className === DEFAULT_QUOTA_CLASS ? dflt : pick(await quotasDb.classLimits(conn, className));
  return Object.fromEntries(COMPUTE_RESOURCES.map((r) => [r, cls.get(r) ?? dflt.get(r) ?? COMPUTE_DEFAULTS[r]])) as ComputeFigures;
}

/** A project's effective limits: its own rows over the defaults. */
export async function computeProjectLimits(conn: Conn, projectId: string): Promise<ComputeFigures> {
  const base = await computeClassLimits(conn);
  const own = pick(await quotasDb.projectLimits(conn, projectId));
  return Object.fromEntries(COMPUTE_RESOURCES.map((r) => [r, own.get(r) ?? base[r]])) as ComputeFigures;
}

const flavorOf = (id: string): Flavor | undefined => FLAVORS.find((f) => f.id === id);

/**
 * What the project uses: instances, cores and RAM (MiB) of its servers.
 * cairn has no key pairs, server groups or nova-network resources, so
 * theirs is 0 (Nova reports 0 for key pairs and group members per project
 * too, and nothing for the absolute resources).
 */
export async function computeUsage(conn: Conn, projectId: string): Promise<ComputeFigures> {
  const used = Object.fromEntries(COMPUTE_RESOURCES.map((r) => [r, 0])) as ComputeFigures;
  for (const { flavor_id, servers } of await quotasDb.serverCountByFlavor(conn, projectId)) {
    const f = flavorOf(flavor_id);
    used.instances += servers;
    used.cores += servers * (f?.vcpus ?? 0);
    used.ram += servers * (f?.ram ?? 0);
  }
  return used;
}

/**
 * Nova's create-time checks (`_check_metadata_properties_quota`, then
 * `check_num_instances_quota`) for `count` servers of `flavor`, inside the
 * transaction that will insert them. Takes the project's quota lock first
 * and holds it to commit, so the next create counts the row written after
 * this call. Throws 403 `forbidden` with Nova's texts.
 */
export async function chargeServerQuota(
  trx: Tx,
  projectId: string,
  flavor: Flavor,
  count: number,
  metadata?: Record<string, unknown>,
): Promise<void> {
  await quotasDb.lockProject(trx, projectId);
  const limit = await computeProjectLimits(trx, projectId);
  const items = Object.keys(metadata ?? {}).length;
  if (items > 0 && limit.metadata_items >= 0 && items > limit.metadata_items) throw metadataLimitExceeded(limit.metadata_items);
  const asked = { instances: count, cores: count * flavor.vcpus, ram: count * flavor.ram };
  const keys = ['instances', 'cores', 'ram'] as const;
  if (keys.every((k) => limit[k] < 0)) return; // all unlimited: nothing to count
  const used = await computeUsage(trx, projectId);
  const overs = keys
    .filter((k) => limit[k] >= 0 && used[k] + asked[k] > limit[k])
    .map((k) => ({ resource: k, requested: asked[k], used: used[k], allowed: limit[k] }));
  if (overs.length) throw tooManyInstances(overs);
}

/**
 * What the compute microversion decides for the quota calls; the HTTP layer
 * computes it (src/http/nova/quotas.ts) from domain/computeQuota.ts.
 */
export interface ComputeQuotaRules {
  /** A query key the route does not know is a 400 (Nova's 2.75 query schemas). */
  readonly strictQuery: boolean;
  /** The resources a quota set shows, a quota class set shows, and a class set update takes. */
  readonly setResources: readonly ComputeResource[];
  readonly classResources: readonly ComputeResource[];
  readonly classSettable: readonly ComputeResource[];
}

/** With `strictQuery`, a key the route does not know is a 400. */
function checkQuery(rules: ComputeQuotaRules, query: RawQuery, allowed: readonly string[]): void {
  if (!rules.strictQuery) return;
  const extra = Object.keys(query)
    .filter((k) => !allowed.includes(k))
    .sort();
  if (extra.length) {
    throw badRequest(
      `Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
    );
  }
}

/** Per-user quotas (`?user_id=`) are not kept: a user's quota is its project's, and cannot be set apart. */
function refuseUserQuota(query: RawQuery): void {
  if (query.user_id !== undefined) throw badRequest('cairn keeps no per-user quotas: user_id is not supported here.');
}

const only = (figures: Readonly<Record<string, unknown>>, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, figures[k]]));

type Body = Record<string, unknown>;

export class ComputeQuotaService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  /** `PROJECT_READER_OR_ADMIN`: an admin, or anyone of the project itself. */
  private mayRead(ctx: RequestContext, projectId: string, op: string): void {
    if (!ctx.isAdmin && ctx.projectId !== projectId) throw forbidden(POLICY(op));
  }

  /** `GET os-quota-sets/{project}` (`?user_id=` shows the project's figures: no user has quotas of its own). */
  async show(ctx: RequestContext, projectId: string, query: RawQuery, rules: ComputeQuotaRules): Promise<Record<string, unknown>> {
    this.mayRead(ctx, projectId, 'show');
    checkQuery(rules, query, ['user_id']);
    return { id: projectId, ...only(await computeProjectLimits(this.db, projectId), rules.setResources) };
  }

  /** `GET os-quota-sets/{project}/detail`: `{limit, in_use, reserved}` per resource (nothing is ever reserved). */
  async detail(ctx: RequestContext, projectId: string, query: RawQuery, rules: ComputeQuotaRules): Promise<Record<string, unknown>> {
    this.mayRead(ctx, projectId, 'detail');
    checkQuery(rules, query, ['user_id']);
    const limit = await computeProjectLimits(this.db, projectId);
    const used = await computeUsage(this.db, projectId);
    const out: Record<string, unknown> = { id: projectId };
    for (const r of rules.setResources) out[r] = { limit: limit[r], in_use: used[r], reserved: 0 };
    return out;
  }

  /** `GET os-quota-sets/{project}/defaults`: anyone may read the defaults (`RULE_ANY`); they are no project's own. */
  async defaults(ctx: RequestContext, projectId: string, rules: ComputeQuotaRules): Promise<Record<string, unknown>> {
    return { id: projectId, ...only(await computeClassLimits(this.db), rules.setResources) };
  }

  /**
   * `PUT os-quota-sets/{project}` (admin): every value is checked against
   * what is in use first (unless `force`), then all are written, under the
   * project's quota lock so no create slips in between. The answer has no id.
   */
  async update(
    ctx: RequestContext,
    projectId: string,
    query: RawQuery,
    body: Body,
    rules: ComputeQuotaRules,
  ): Promise<Record<string, unknown>> {
    requireAdmin(ctx, POLICY('update'));
    checkQuery(rules, query, ['user_id']);
    refuseUserQuota(query);
    const force = ['1', 't', 'true', 'on', 'y', 'yes'].includes(String(body.force ?? 'false').toLowerCase());
    await this.db.transaction(async (trx) => {
      await quotasDb.lockProject(trx, projectId);
      const used = await computeUsage(trx, projectId);
      const values: Record<string, number> = {};
      for (const [key, raw] of Object.entries(body)) {
        if (key === 'force' || !isComputeResource(key)) continue; // the document admits no other key
        const value = parseComputeQuotaValue(raw);
        if (!force && value !== -1 && value < used[key]) throw limitBelowUsage(key, value, used[key]);
        values[key] = value;
      }
      await quotasDb.upsertProjectLimits(trx, projectId, values);
    });
    return only(await computeProjectLimits(this.db, projectId), rules.setResources);
  }

  /** `DELETE os-quota-sets/{project}` (admin): back to the defaults; the volume service's limits stay. */
  async reset(ctx: RequestContext, projectId: string, query: RawQuery, rules: ComputeQuotaRules): Promise<void> {
    requireAdmin(ctx, POLICY('delete'));
    checkQuery(rules, query, ['user_id']);
    refuseUserQuota(query);
    await quotasDb.deleteProjectLimits(this.db, projectId, 'compute');
  }

  /** `GET os-quota-class-sets/{class}` (admin). */
  async showClass(ctx: RequestContext, className: string, rules: ComputeQuotaRules): Promise<Record<string, unknown>> {
    requireAdmin(ctx, 'os_compute_api:os-quota-class-sets:show');
    return { id: className, ...only(await computeClassLimits(this.db, className), rules.classResources) };
  }

  /** `PUT os-quota-class-sets/{class}` (admin): `default` changes every project without a limit of its own. */
  async updateClass(ctx: RequestContext, className: string, body: Body, rules: ComputeQuotaRules): Promise<Record<string, unknown>> {
    requireAdmin(ctx, 'os_compute_api:os-quota-class-sets:update');
    if (className.length > 255) throw badRequest('quota_class_name has a maximum character requirement of 255.');
    const settable = rules.classSettable as readonly string[];
    const values = Object.fromEntries(
      Object.entries(body)
        .filter(([k]) => settable.includes(k))
        .map(([k, v]) => [k, parseComputeQuotaValue(v)]),
    );
    await quotasDb.upsertClassLimits(this.db, className, values);
    return only(await computeClassLimits(this.db, className), rules.classResources);
  }

  /**
   * `GET /limits`: the project's limits and usage. `tenant_id` names another
   * project, for admins only (`os_compute_api:limits:other_project`, checked
   * whenever the key is there, even naming the caller's own project).
   */
  async limits(ctx: RequestContext, query: RawQuery, rules: ComputeQuotaRules): Promise<{ limit: ComputeFigures; used: ComputeFigures }> {
    checkQuery(rules, query, ['tenant_id']);
    let projectId = ctx.projectId;
    if (query.tenant_id !== undefined) {
      requireAdmin(ctx, 'os_compute_api:limits:other_project');
      projectId = String(Array.isArray(query.tenant_id) ? query.tenant_id[query.tenant_id.length - 1] : query.tenant_id);
    }
    return { limit: await computeProjectLimits(this.db, projectId), used: await computeUsage(this.db, projectId) };
  }
}
