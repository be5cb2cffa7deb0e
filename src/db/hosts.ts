import type { Knex } from 'knex';
import type { Conn } from './connection';

const like = (s: string) => s.replace(/[\\%_]/g, '\\$&');

/**
 * Cinder's `_filter_host`: `value` names a pool (`host@backend#pool`, exact),
 * a backend (`host@backend`, also its pools) or a host (also its backends and
 * pools). Used for services' and volumes' `host` columns alike.
 */
export function whereHost(q: Knex.QueryBuilder, column: string, value: string): void {
  q.where((w) => {
    w.where(column, value);
    if (value.includes('#')) return;
    w.orWhereLike(column, `${like(value)}#%`);
    if (!value.includes('@')) w.orWhereLike(column, `${like(value)}@%`);
  });
}

/** Volume and snapshot counts and GiB of one project on one backend host (os-hosts show). */
export interface HostProjectUsage {
  project_id: string;
  volume_count: number;
  total_volume_gb: number;
  snapshot_count: number;
  total_snapshot_gb: number;
}

/**
 * Per project, what the volumes on `host` (a backend, `host@backend`) hold,
 * and the snapshots of those volumes (`db.volume_data_get_for_project` and
 * `snapshot_data_get_for_project` with a host, as Cinder's os-hosts sums them).
 */
export async function usageOnHost(conn: Conn, host: string): Promise<HostProjectUsage[]> {
  const vols = conn('volumes').select('project_id').count({ n: '*' }).sum({ gb: 'size' }).groupBy('project_id');
  whereHost(vols, 'volumes.host', host);
  const snaps = conn('snapshots')
    .join('volumes', 'volumes.id', 'snapshots.volume_id')
    .select('snapshots.project_id')
    .count({ n: '*' })
    .sum({ gb: 'snapshots.size' })
    .groupBy('snapshots.project_id');
  whereHost(snaps, 'volumes.host', host);
  const [v, s] = (await Promise.all([vols, snaps])) as [
    Array<{ project_id: string; n: unknown; gb: unknown }>,
    Array<{ project_id: string; n: unknown; gb: unknown }>,
  ];
  const byProject = new Map<string, HostProjectUsage>();
  const entry = (p: string) => {
    let e = byProject.get(p);
    if (!e) byProject.set(p, (e = { project_id: p, volume_count: 0, total_volume_gb: 0, snapshot_count: 0, total_snapshot_gb: 0 }));
    return e;
  };
  for (const r of v) Object.assign(entry(r.project_id), { volume_count: Number(r.n), total_volume_gb: Number(r.gb ?? 0) });
  for (const r of s) Object.assign(entry(r.project_id), { snapshot_count: Number(r.n), total_snapshot_gb: Number(r.gb ?? 0) });
  return [...byProject.values()].sort((a, b) => a.project_id.localeCompare(b.project_id));
}

/** GiB of the volumes placed on each pool (`host@backend#pool`): a pool's allocated_capacity_gb. */
export async function allocatedByPool(conn: Conn): Promise<Map<string, number>> {
  const rows = (await conn('volumes').select('host').sum({ gb: 'size' }).groupBy('host')) as Array<{ host: string; gb: unknown }>;
  return new Map(rows.map((r) => [r.host, Number(r.gb ?? 0)]));
}
