/**
 * What listing a project's snapshots and backups shares: the caller's scope,
 * the filters both have, a keyset page and a count.
 */
import type { Knex } from 'knex';
import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';

/** Which rows a caller may see: one project, or every project (admin). */
export interface ProjectScope {
  readonly projectId: string | undefined;
}

export interface CommonFilters {
  display_name?: string;
  display_name_like?: string;
  status?: string;
  volume_id?: string;
  metadata?: Record<string, string>;
  project_id?: string;
  user_id?: string;
  /** A filter no row can satisfy (another availability zone, consumes_quota=false…). */
  impossible?: boolean;
}

export interface ProjectListQuery<F> {
  scope: ProjectScope;
  filters: F;
  sort: readonly SortTerm[];
  limit: number;
  offset?: number;
  markerId?: string;
}

export function scoped<Row extends object>(conn: Conn, table: string, scope: ProjectScope) {
  const q = conn<Row>(table);
  if (scope.projectId !== undefined) q.where(`${table}.project_id`, scope.projectId);
  return q;
}

export function applyCommonFilters(q: Knex.QueryBuilder, table: string, f: CommonFilters): void {
  if (f.impossible) q.whereRaw('false');
  if (f.display_name !== undefined) q.where(`${table}.display_name`, f.display_name);
  if (f.display_name_like !== undefined) q.whereILike(`${table}.display_name`, `%${f.display_name_like.replace(/[\\%_]/g, '\\$&')}%`);
  if (f.status !== undefined) q.where(`${table}.status`, f.status);
  if (f.volume_id !== undefined) q.where(`${table}.volume_id`, f.volume_id);
  if (f.metadata !== undefined) q.whereRaw(`${table}.metadata @> ?::jsonb`, [JSON.stringify(f.metadata)]);
  if (f.project_id !== undefined) q.where(`${table}.project_id`, f.project_id);
  if (f.user_id !== undefined) q.where(`${table}.user_id`, f.user_id);
}

/** One page of `q`: after the marker, in the requested order, `limit` rows from `offset`. */
export function page<Q extends Knex.QueryBuilder>(q: Q, table: string, query: ProjectListQuery<unknown>): Q {
  applyKeyset(q, table, query.sort, query.markerId);
  limitPage(q, query.limit);
  if (query.offset) q.offset(query.offset);
  return q;
}

export async function countRows(q: Knex.QueryBuilder): Promise<number> {
  const [row] = await q.count<{ n: string | number }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}
