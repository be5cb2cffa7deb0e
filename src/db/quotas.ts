import { COMPUTE_RESOURCES } from '../domain/computeQuota';
import type { Conn, Tx } from './connection';
import { fixedStatement } from './fixedStatements';

/**
 * Namespace (first key) of the advisory locks that serialise quota
 * consumption per project, so they cannot collide with other advisory locks
 * of the same database. The second key is `hashtext(project_id)`: two
 * projects may share a hash, which only makes them wait for each other.
 */
const QUOTA_LOCK_NAMESPACE = 0x63717461; // "cqta"

/**
 * Takes the project's quota lock until the transaction ends
 * (`pg_advisory_xact_lock`; PGlite has it too). Every transaction that
 * consumes quota or changes a project's limits takes it before it sums usage,
 * so two of them never decide on the same snapshot.
 */
export async function lockProject(trx: Tx, projectId: string): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [QUOTA_LOCK_NAMESPACE, projectId]);
}

// --- limits --------------------------------------------------------------------

export interface DbQuotaLimit {
  resource: string;
  hard_limit: number;
}

export async function projectLimits(conn: Conn, projectId: string): Promise<DbQuotaLimit[]> {
  return conn('quotas').select('resource', 'hard_limit').where('project_id', projectId);
}

/** A quota class's limits and a project's own in one query: a create reads both on its way to the 202. */
export async function classAndProjectLimits(
  conn: Conn,
  className: string,
  projectId: string,
): Promise<{ cls: DbQuotaLimit[]; own: DbQuotaLimit[] }> {
  const { rows } = (await conn.raw(
    `SELECT 'class' AS scope, resource, hard_limit FROM quota_classes WHERE class_name = ?
     UNION ALL SELECT 'project', resource, hard_limit FROM quotas WHERE project_id = ?`,
    [className, projectId],
  )) as { rows: Array<DbQuotaLimit & { scope: 'class' | 'project' }> };
  const pick = (scope: 'class' | 'project') =>
    rows.filter((r) => r.scope === scope).map(({ resource, hard_limit }) => ({ resource, hard_limit }));
  return { cls: pick('class'), own: pick('project') };
}

export async function classLimits(conn: Conn, className: string): Promise<DbQuotaLimit[]> {
  return conn('quota_classes').select('resource', 'hard_limit').where('class_name', className);
}

export async function upsertProjectLimits(conn: Conn, projectId: string, limits: Record<string, number>): Promise<void> {
  const rows = Object.entries(limits).map(([resource, hard_limit]) => ({
    project_id: projectId,
    resource,
    hard_limit,
    updated_at: new Date(),
  }));
  if (rows.length === 0) return;
  await conn('quotas').insert(rows).onConflict(['project_id', 'resource']).merge(['hard_limit', 'updated_at']);
}

export async function upsertClassLimits(conn: Conn, className: string, limits: Record<string, number>): Promise<void> {
  const rows = Object.entries(limits).map(([resource, hard_limit]) => ({
    class_name: className,
    resource,
    hard_limit,
    updated_at: new Date(),
  }));
  if (rows.length === 0) return;
  await conn('quota_classes').insert(rows).onConflict(['class_name', 'resource']).merge(['hard_limit', 'updated_at']);
}

/**
 * Removes a project's own limits of one service: the volume service's (every
 * key but Nova's) or the compute service's (Nova's keys), which share the table.
 */
export async function deleteProjectLimits(conn: Conn, projectId: string, service: 'volume' | 'compute' = 'volume'): Promise<void> {
  const q = conn('quotas').where('project_id', projectId);
  if (service === 'compute') q.whereIn('resource', COMPUTE_RESOURCES);
  else q.whereNotIn('resource', COMPUTE_RESOURCES);
  await q.delete();
}

/** Every project with a volume limit of its own (for `quota verify`). */
export async function projectsWithLimits(conn: Conn): Promise<string[]> {
  const rows: { project_id: string }[] = await conn('quotas').whereNotIn('resource', COMPUTE_RESOURCES).distinct('project_id');
  return rows.map((r) => r.project_id);
}

// --- usage, summed from the resources --------------------------------------------

/** The tables that consume quota, as `projectUsage` names them. */
export type UsageTable = 'volumes' | 'snapshots' | 'groups' | 'backups';

/** One table's use by one project, per volume type where the table has one (else `volume_type_id` null). */
export interface DbUsageRow {
  table: UsageTable;
  volume_type_id: string | null;
  /** Rows. */
  count: number;
  /** GiB (groups: 0). */
  gigabytes: number;
}

/**
 * Everything a project consumes, in one statement (a create's transaction reads it under the quota lock): every
 * row counts, whatever its status, as in Cinder. A volume being extended counts at its pending size; snapshots
 * count their GiB per type; groups only their number; backups their number and GiB.
 */
export async function projectUsage(conn: Conn, projectId: string): Promise<DbUsageRow[]> {
  const rows = await usageStatement(conn, [projectId, projectId, projectId, projectId]);
  return rows.map((r) => ({ table: r.t, volume_type_id: r.volume_type_id, count: Number(r.n), gigabytes: Number(r.gb) }));
}

const usageStatement = fixedStatement<{ t: UsageTable; volume_type_id: string | null; n: string | number; gb: string | number }>(
  `SELECT 'volumes' AS t, volume_type_id, count(*) AS n, coalesce(sum(greatest(size, coalesce(pending_size, 0))), 0) AS gb
     FROM volumes WHERE project_id = ? GROUP BY volume_type_id
   UNION ALL
   SELECT 'snapshots', volume_type_id, count(*), coalesce(sum(size), 0) FROM snapshots WHERE project_id = ? GROUP BY volume_type_id
   UNION ALL
   SELECT 'groups', NULL, count(*), 0 FROM groups WHERE project_id = ?
   UNION ALL
   SELECT 'backups', NULL, count(*), coalesce(sum(size), 0) FROM backups WHERE project_id = ?`,
);

/** Volume types as quota keys need them: every live type, newest first (Cinder lists private ones too). */
export async function quotaTypes(conn: Conn): Promise<Array<{ id: string; name: string }>> {
  return conn('volume_types').select('id', 'name').whereNull('deleted_at').orderBy('created_at', 'desc').orderBy('id');
}

/** One group of the census: resources of one kind, project, status and type. */
export interface DbCensusRow {
  kind: 'volume' | 'snapshot';
  project_id: string;
  status: string;
  volume_type_id: string;
  type_name: string | null;
  type_deleted: boolean;
  count: number;
  /** GiB, a volume being extended counted at its new size (pending_size). */
  gigabytes: number;
  largest: number;
  smallest: number;
}

/**
 * An independent recount for `quota verify`: volumes and snapshots per
 * project, status and type, in plain GROUP BYs that share no code with the
 * enforcement path.
 */
/** One census group as the driver returns it: counts and sums of bigints as strings (pg) or numbers. */
interface CensusGroup {
  project_id: string;
  status: string;
  volume_type_id: string;
  type_name: string | null;
  type_deleted: boolean | null;
  n: string | number;
  gigabytes: string | number;
  largest: string | number;
  smallest: string | number;
}

export async function census(conn: Conn, projectId?: string): Promise<DbCensusRow[]> {
  const group = (table: 'volumes' | 'snapshots', size: string): Promise<CensusGroup[]> => {
    const q = conn(`${table} as r`)
      .leftJoin('volume_types as t', 't.id', 'r.volume_type_id')
      .select(
        'r.project_id',
        'r.status',
        'r.volume_type_id',
        't.name as type_name',
        conn.raw('(t.deleted_at is not null) as type_deleted'),
        conn.raw('count(*) as n'),
        conn.raw(`sum(${size}) as gigabytes`),
        conn.raw(`max(${size}) as largest`),
        conn.raw('min(r.size) as smallest'),
      )
      .groupBy('r.project_id', 'r.status', 'r.volume_type_id', 't.name', 't.deleted_at')
      .orderBy('r.project_id');
    if (projectId) q.where('r.project_id', projectId);
    return q;
  };
  const rows: Array<CensusGroup & { kind: DbCensusRow['kind'] }> = [
    ...(await group('volumes', 'greatest(r.size, coalesce(r.pending_size, 0))')).map((r) => ({ ...r, kind: 'volume' as const })),
    ...(await group('snapshots', 'r.size')).map((r) => ({ ...r, kind: 'snapshot' as const })),
  ];
  return rows.map((r) => ({
    kind: r.kind,
    project_id: r.project_id,
    status: r.status,
    volume_type_id: r.volume_type_id,
    type_name: r.type_name ?? null,
    type_deleted: Boolean(r.type_deleted),
    count: Number(r.n),
    gigabytes: Number(r.gigabytes),
    largest: Number(r.largest),
    smallest: Number(r.smallest),
  }));
}

/** The backups' side of the census: per project and status, a plain GROUP BY of its own. */
export async function backupCensus(
  conn: Conn,
  projectId?: string,
): Promise<Array<{ project_id: string; status: string; count: number; gigabytes: number }>> {
  const q = conn('backups')
    .select('project_id', 'status', conn.raw('count(*) as n'), conn.raw('sum(size) as gigabytes'))
    .groupBy('project_id', 'status')
    .orderBy('project_id');
  if (projectId) q.where('project_id', projectId);
  return (await q).map((r: { project_id: string; status: string; n: string | number; gigabytes: string | number | null }) => ({
    project_id: r.project_id,
    status: r.status,
    count: Number(r.n),
    gigabytes: Number(r.gigabytes),
  }));
}

/** Every volume quota row (not Nova's keys), for `quota verify` to find per-type keys whose type is gone or renamed. */
export async function allQuotaRows(conn: Conn): Promise<Array<{ project_id: string; resource: string; hard_limit: number }>> {
  return conn('quotas')
    .select('project_id', 'resource', 'hard_limit')
    .whereNotIn('resource', COMPUTE_RESOURCES)
    .orderBy(['project_id', 'resource']);
}

// --- compute usage ----------------------------------------------------------------

/**
 * A project's servers per flavor, every one not deleted whatever its state
 * (Nova counts every instance row but soft-deleted ones; cairn has no soft
 * delete). Flavors are fixed, so cores and RAM follow from the flavor id.
 */
export async function serverCountByFlavor(conn: Conn, projectId: string): Promise<Array<{ flavor_id: string; servers: number }>> {
  const rows: Array<{ flavor_id: string; n: string | number }> = await conn('servers')
    .select('flavor_id', conn.raw('count(*) as n'))
    .where('project_id', projectId)
    .whereNull('deleted_at')
    .groupBy('flavor_id');
  return rows.map((r) => ({ flavor_id: r.flavor_id, servers: Number(r.n) }));
}
