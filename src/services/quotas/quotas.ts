/**
 * Quotas: `os-quota-sets`, `os-quota-class-sets`, `/limits`, and the check
 * every consuming transaction makes (`chargeQuota`). There is no usage
 * counter: the resource row a transaction writes is the charge, and usage is
 * summed from the rows after taking the project's advisory lock, so
 * concurrent requests are decided one after another on committed data.
 */
import {
  badKeys,
  belowUsage,
  DEFAULT_QUOTA_CLASS,
  NON_QUOTA_KEYS,
  parseQuotaValue,
  refusalFor,
  volumeSizeExceedsLimit,
  type Over,
  type QuotaUsageEntry,
} from '../../domain/quota';
import type { Tx } from '../../db/connection';
import * as quotasDb from '../../db/quotas';
import { forbidden } from '../../domain/errors';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { defaultLimits, knownKeys, projectLimits, projectUsage, quotaTypes, type QuotaType } from './usage';

/** What one request consumes (Cinder's reserve deltas), checked by `chargeQuota`. */
export interface QuotaCharge {
  /** Which count refusal applies (VolumeLimitExceeded, SnapshotLimitExceeded, …). */
  readonly resource: 'volumes' | 'snapshots' | 'backups' | 'groups';
  readonly volumes?: number;
  /** GiB more (a create's size, an extend's increase); named in a refusal as "Requested NG". */
  readonly gigabytes?: number;
  readonly snapshots?: number;
  readonly backups?: number;
  readonly backup_gigabytes?: number;
  readonly groups?: number;
  /** The volume type the volumes/gigabytes/snapshots are of, for the per-type keys. */
  readonly volumeType?: QuotaType;
  /** The size the one volume will have (create, extend), checked against `per_volume_gigabytes`. */
  readonly perVolumeSize?: number;
  /**
   * Only the per-type keys (retype: the volume already counts in the totals;
   * Cinder's `get_volume_type_reservation(reserve_vol_type_only=True)`).
   */
  readonly perTypeOnly?: boolean;
}

/**
 * Checks that the project may consume `charge`, inside the transaction that
 * will write the consuming row(s). Takes the project's quota lock first and
 * holds it to commit, so the row written after this call is seen by the next
 * check. Throws 413 `overLimit` with Cinder's text. A caller that grows an
 * existing resource (extend) must write the new size in the same
 * transaction, or the next check would not see it.
 */
export async function chargeQuota(trx: Tx, projectId: string, charge: QuotaCharge): Promise<void> {
  await quotasDb.lockProject(trx, projectId);
  const types = charge.volumeType ? [charge.volumeType] : [];
  const limits = await projectLimits(trx, projectId, types);
  if (charge.perVolumeSize !== undefined) {
    const max = limits.limit.per_volume_gigabytes!;
    if (max >= 0 && charge.perVolumeSize > max) throw volumeSizeExceedsLimit(charge.perVolumeSize, max);
  }
  // The consuming count, gigabytes, then add_volume_type_opts' per-type keys (refusalFor sorts them as Cinder does).
  const deltas: Array<[string, number | undefined]> = charge.perTypeOnly
    ? []
    : [
        [charge.resource, charge[charge.resource]],
        ['gigabytes', charge.gigabytes],
        ['backup_gigabytes', charge.backup_gigabytes],
      ];
  if (charge.volumeType) {
    const t = charge.volumeType.name;
    deltas.push([`${charge.resource}_${t}`, charge[charge.resource]], [`gigabytes_${t}`, charge.gigabytes]);
  }
  const asked = deltas.filter((d): d is [string, number] => d[1] !== undefined && d[1] >= 0 && d[0] in limits.limit);
  if (asked.every(([k]) => limits.limit[k]! < 0)) return; // all unlimited: nothing to sum
  const used = await projectUsage(trx, projectId, types);
  const overs: Over[] = asked
    .filter(([k, delta]) => limits.limit[k]! >= 0 && used[k]! + delta > limits.limit[k]!)
    .map(([key, delta]) => ({ key, delta, limit: limits.limit[key]!, inUse: used[key]! }));
  const refusal = refusalFor(overs, charge.resource, charge.gigabytes ?? charge.backup_gigabytes ?? 0);
  if (refusal) throw refusal;
}

type Body = Record<string, unknown>;

export class QuotaService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  /** Cinder's show policy: an admin, or anyone of the project itself. */
  private mayRead(ctx: RequestContext, projectId: string, action: string): void {
    if (!ctx.isAdmin && ctx.projectId !== projectId) throw forbidden(action);
  }

  /** `GET os-quota-sets/{project}[?usage=True]`: limits, or `{limit, in_use, reserved}` per key. */
  async show(ctx: RequestContext, projectId: string, usage: boolean): Promise<Record<string, number | QuotaUsageEntry>> {
    this.mayRead(ctx, projectId, 'volume_extension:quotas:show');
    const types = await quotaTypes(this.db);
    const limits = await projectLimits(this.db, projectId, types);
    if (!usage) return Object.fromEntries(limits.keys.map((k) => [k, limits.limit[k]!]));
    const used = await projectUsage(this.db, projectId, types);
    return Object.fromEntries(limits.keys.map((k) => [k, { limit: limits.limit[k]!, in_use: used[k] ?? 0, reserved: 0 }]));
  }

  /** `GET os-quota-sets/{project}/defaults`: the default class over the built-in defaults. */
  async defaults(ctx: RequestContext, projectId: string): Promise<Record<string, number>> {
    this.mayRead(ctx, projectId, 'volume_extension:quotas:show');
    const d = await defaultLimits(this.db, await quotaTypes(this.db));
    return Object.fromEntries(d.keys.map((k) => [k, d.limit[k]!]));
  }

  /**
   * `PUT os-quota-sets/{project}` (admin): sets limits, refusing any below
   * what is in use; under the project's quota lock, so no create slips in
   * between the check and the new limit.
   */
  async update(ctx: RequestContext, projectId: string, body: Body): Promise<Record<string, number>> {
    requireAdmin(ctx, 'volume_extension:quotas:update');
    await this.db.transaction(async (trx) => {
      const types = await quotaTypes(trx);
      const values = parseSet(body, knownKeys(types), 'quota set');
      await quotasDb.lockProject(trx, projectId);
      const used = await projectUsage(trx, projectId, types);
      for (const [key, value] of Object.entries(values)) {
        // -1 is always above usage; per_volume_gigabytes limits a request, not a total.
        if (key === 'per_volume_gigabytes' || value === -1) continue;
        if (value < (used[key] ?? 0)) throw belowUsage(key, used[key]!, value);
      }
      await quotasDb.upsertProjectLimits(trx, projectId, values);
    });
    return this.limitsOnly(projectId);
  }

  /** `DELETE os-quota-sets/{project}` (admin): back to the defaults; the project's compute limits (Nova's keys) stay. */
  async reset(ctx: RequestContext, projectId: string): Promise<void> {
    requireAdmin(ctx, 'volume_extension:quotas:delete');
    await quotasDb.deleteProjectLimits(this.db, projectId, 'volume');
  }

  /** `GET os-quota-class-sets/{class}` (admin). */
  async showClass(ctx: RequestContext, className: string): Promise<Record<string, number>> {
    requireAdmin(ctx, 'volume_extension:quota_classes');
    const d = await defaultLimits(this.db, await quotaTypes(this.db), className);
    return Object.fromEntries(d.keys.map((k) => [k, d.limit[k]!]));
  }

  /** `PUT os-quota-class-sets/{class}` (admin). Changing `default` changes every project without its own limit. */
  async updateClass(ctx: RequestContext, className: string, body: Body): Promise<Record<string, number>> {
    requireAdmin(ctx, 'volume_extension:quota_classes');
    const types = await quotaTypes(this.db);
    await quotasDb.upsertClassLimits(this.db, className, parseSet(body, knownKeys(types), 'quota class set'));
    return this.showClass(ctx, className);
  }

  /** `GET /limits` absolute figures; an admin may name another project (the HTTP layer passes it from 3.39). */
  async absolute(ctx: RequestContext, projectIdParam?: string): Promise<Record<string, number>> {
    const projectId = projectIdParam && ctx.isAdmin ? projectIdParam : ctx.projectId;
    const types = await quotaTypes(this.db);
    const { limit } = await projectLimits(this.db, projectId, types);
    const used = await projectUsage(this.db, projectId, types);
    return {
      maxTotalVolumes: limit.volumes!,
      maxTotalSnapshots: limit.snapshots!,
      maxTotalVolumeGigabytes: limit.gigabytes!,
      maxTotalBackups: limit.backups!,
      maxTotalBackupGigabytes: limit.backup_gigabytes!,
      totalVolumesUsed: used.volumes!,
      totalGigabytesUsed: used.gigabytes!,
      totalSnapshotsUsed: used.snapshots!,
      totalBackupsUsed: used.backups!,
      totalBackupGigabytesUsed: used.backup_gigabytes!,
    };
  }

  private async limitsOnly(projectId: string): Promise<Record<string, number>> {
    const limits = await projectLimits(this.db, projectId, await quotaTypes(this.db));
    return Object.fromEntries(limits.keys.map((k) => [k, limits.limit[k]!]));
  }
}

/** The quota keys and values of a body's set; unknown keys are one 400 naming them all. */
function parseSet(body: Body, known: ReadonlySet<string>, what: 'quota set' | 'quota class set'): Record<string, number> {
  const entries = Object.entries(body).filter(([k]) => what === 'quota class set' || !NON_QUOTA_KEYS.has(k));
  const bad = entries.filter(([k]) => !known.has(k)).map(([k]) => k);
  if (bad.length) throw badKeys(what, bad);
  return Object.fromEntries(entries.map(([k, v]) => [k, parseQuotaValue(k, v)]));
}

export { DEFAULT_QUOTA_CLASS };
