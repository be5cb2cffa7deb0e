/**
 * `cairn-manage quota verify`. There is no usage cache to compare with, so
 * drift in Cinder's sense cannot exist; what can go wrong is enforcement:
 * a project above a limit (a race the lock failed to stop, or an admin who
 * lowered the `default` class below what projects hold), or the usage the
 * enforcement path sums disagreeing with the resources (a status filter
 * slipped into one of them). Verify recounts with its own query and reports
 * both, per project, from one consistent snapshot.
 */
import type { Db } from '../../db/connection';
import * as quotasDb from '../../db/quotas';
import { knownKeys, projectLimits, projectUsage, quotaTypes, type LimitSource } from './usage';

export interface VerifiedKey {
  readonly key: string;
  readonly limit: number;
  readonly source: LimitSource;
  /** What `chargeQuota` would sum now. */
  readonly inUse: number;
  /** What verify's own census counts. */
  readonly recount: number;
}

export interface VerifiedProject {
  readonly projectId: string;
  readonly keys: readonly VerifiedKey[];
  /** Volumes, snapshots and backups per status (`volume available`, …): every status counts (error, deleting too), as in Cinder. */
  readonly byStatus: Readonly<Record<string, { count: number; gigabytes: number }>>;
  readonly violations: readonly string[];
}

export interface VerifyReport {
  readonly projects: readonly VerifiedProject[];
  readonly violations: readonly string[];
  /** Not wrong, but worth a look (e.g. a per-type quota row whose type is gone or renamed). */
  readonly warnings: readonly string[];
}

/** Keys the census recounts (groups are not recounted: their count is the one query). */
const RECOUNTED = /^(volumes|gigabytes|snapshots)(_.+)?$|^backups$|^backup_gigabytes$/;

export async function verifyQuotas(db: Db, opts: { projectId?: string } = {}): Promise<VerifyReport> {
  return db.transaction(async (trx) => {
    // One snapshot for every query: rows a worker deletes meanwhile cannot make the two counts differ.
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const types = await quotaTypes(trx);
    const census = await quotasDb.census(trx, opts.projectId);
    const backupCensus = await quotasDb.backupCensus(trx, opts.projectId);
    const projectIds = opts.projectId
      ? [opts.projectId]
      : [
          ...new Set([
            ...census.map((c) => c.project_id),
            ...backupCensus.map((c) => c.project_id),
            ...(await quotasDb.projectsWithLimits(trx)),
          ]),
        ].sort();
    const projects: VerifiedProject[] = [];
    for (const projectId of projectIds) {
      const rows = census.filter((c) => c.project_id === projectId);
      const limits = await projectLimits(trx, projectId, types);
      const used = await projectUsage(trx, projectId, types);
      const recount: Record<string, number> = {};
      const add = (k: string, n: number) => {
        recount[k] = (recount[k] ?? 0) + n;
      };
      const byStatus: Record<string, { count: number; gigabytes: number }> = {};
      const violations: string[] = [];
      for (const c of rows) {
        const counted = c.kind === 'volume' ? 'volumes' : 'snapshots';
        add(counted, c.count);
        add('gigabytes', c.gigabytes);
        if (c.type_name !== null && !c.type_deleted) {
          add(`${counted}_${c.type_name}`, c.count);
          add(`gigabytes_${c.type_name}`, c.gigabytes);
        } else {
          violations.push(
            `${c.count} ${c.kind}(s) in ${c.status} have a ${c.type_name === null ? 'missing' : 'deleted'} volume type ${c.volume_type_id}: no per-type quota counts them`,
          );
        }
        const s = (byStatus[`${c.kind} ${c.status}`] ??= { count: 0, gigabytes: 0 });
        s.count += c.count;
        s.gigabytes += c.gigabytes;
        if (c.smallest < 1) violations.push(`${c.kind}(s) in ${c.status} with a size below 1 GiB (${c.smallest})`);
      }
      for (const b of backupCensus.filter((c) => c.project_id === projectId)) {
        add('backups', b.count);
        add('backup_gigabytes', b.gigabytes);
        const s = (byStatus[`backup ${b.status}`] ??= { count: 0, gigabytes: 0 });
        s.count += b.count;
        s.gigabytes += b.gigabytes;
      }
      const keys: VerifiedKey[] = limits.keys.map((key) => ({
        key,
        limit: limits.limit[key]!,
        source: limits.source[key]!,
        inUse: used[key] ?? 0,
        recount: RECOUNTED.test(key) ? (recount[key] ?? 0) : (used[key] ?? 0),
      }));
      for (const k of keys) {
        if (k.inUse !== k.recount) {
          violations.push(`${k.key}: the enforcement path sums ${k.inUse} but the resources hold ${k.recount}`);
        }
        if (k.key !== 'per_volume_gigabytes' && k.limit >= 0 && k.recount > k.limit) {
          violations.push(`${k.key}: ${k.recount} in use is over the limit ${k.limit} (${k.source} limit)`);
        }
      }
      const perVolume = limits.limit.per_volume_gigabytes!;
      const largest = Math.max(0, ...rows.filter((c) => c.kind === 'volume').map((c) => c.largest));
      if (perVolume >= 0 && largest > perVolume) {
        violations.push(
          `per_volume_gigabytes: a volume of ${largest} GiB is over the limit ${perVolume} (${limits.source.per_volume_gigabytes} limit)`,
        );
      }
      projects.push({ projectId, keys, byStatus, violations });
    }
    const known = knownKeys(types);
    const warnings = (await quotasDb.allQuotaRows(trx))
      .filter((r) => !known.has(r.resource) && (!opts.projectId || r.project_id === opts.projectId))
      .map((r) => `project ${r.project_id}: quota row ${r.resource}=${r.hard_limit} names no current volume type (renamed or deleted?)`);
    return {
      projects,
      violations: projects.flatMap((p) => p.violations.map((v) => `project ${p.projectId}: ${v}`)),
      warnings,
    };
  });
}

/** The report as text for operators: one block per project, then the verdict. */
export function formatVerifyReport(r: VerifyReport): string {
  const out: string[] = [];
  for (const p of r.projects) {
    out.push(`project ${p.projectId}`);
    const statuses = Object.entries(p.byStatus)
      .map(([s, v]) => `${s} ${v.count} (${v.gigabytes} GiB)`)
      .join(', ');
    out.push(`  by status (every status counts): ${statuses || 'none'}`);
    const shown = p.keys.filter((k) => k.inUse > 0 || k.source !== 'builtin' || k.limit >= 0);
    const w = Math.max(...shown.map((k) => k.key.length), 3);
    out.push(`  ${'key'.padEnd(w)}  ${'limit'.padStart(6)}  ${'in_use'.padStart(6)}  ${'recount'.padStart(7)}  source`);
    for (const k of shown) {
      out.push(
        `  ${k.key.padEnd(w)}  ${String(k.limit).padStart(6)}  ${String(k.inUse).padStart(6)}  ${String(k.recount).padStart(7)}  ${k.source}`,
      );
    }
    for (const v of p.violations) out.push(`  VIOLATION: ${v}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(
    r.violations.length
      ? `${r.violations.length} violation(s) in ${r.projects.length} project(s)`
      : `OK: ${r.projects.length} project(s), usage within limits and recounts agree`,
  );
  return out.join('\n');
}
