/**
 * A resource's rows as a caller reaches them: in the caller's project (an
 * admin's in any), or the resource's own 404; and a page of them.
 */
import type { Conn, Tx } from '../db/connection';
import type { CommonFilters, ProjectListQuery, ProjectScope } from '../db/projectRows';
import { scopeOf, type RequestContext } from '../domain/context';
import { parseMetadataFilter, type Paging } from './listQuery';

interface ScopedTable<Row, View, Filters> {
  find(conn: Conn, id: string, scope: ProjectScope): Promise<View | undefined>;
  lock(conn: Conn, id: string, scope: ProjectScope): Promise<Row | undefined>;
  list(conn: Conn, query: ProjectListQuery<Filters>): Promise<View[]>;
  count(conn: Conn, scope: ProjectScope, filters: Filters): Promise<number>;
}

export function scopedRows<Row, View, Filters>(table: ScopedTable<Row, View, Filters>, notFound: (id: string) => Error) {
  const found = <T>(row: T | undefined, id: string): T => {
    if (row === undefined) throw notFound(id);
    return row;
  };
  return {
    /** 404 unless the row exists in the caller's scope (an admin sees every project's). */
    get: async (conn: Conn, ctx: RequestContext, id: string): Promise<View> => found(await table.find(conn, id, scopeOf(ctx, true)), id),
    /** The same, locked until the transaction ends (FOR UPDATE). */
    lock: async (trx: Tx, ctx: RequestContext, id: string): Promise<Row> => found(await table.lock(trx, id, scopeOf(ctx, true)), id),
    /** A page in `scope` (a marker outside it is the 404), with the count when asked (`with_count`). */
    page: async (
      conn: Conn,
      scope: ProjectScope,
      paging: Paging,
      filters: Filters,
    ): Promise<{ items: View[]; paging: Paging; count?: number }> => {
      if (paging.marker !== undefined && !(await table.find(conn, paging.marker, scope))) throw notFound(paging.marker);
      const items = await table.list(conn, {
        scope,
        filters,
        sort: paging.sort,
        limit: paging.limit,
        offset: paging.offset,
        markerId: paging.marker,
      });
      const count = paging.withCount ? await table.count(conn, scope, filters) : undefined;
      return { items, paging, count };
    },
  };
}

/** Sets the filter a query key names when it is one both listings have; whether it was. */
export function setCommonFilter(f: CommonFilters, key: string, value: string): boolean {
  switch (key) {
    case 'name':
    case 'display_name':
      f.display_name = value;
      return true;
    case 'name~':
    case 'display_name~':
      f.display_name_like = value;
      return true;
    case 'status':
      f.status = value;
      return true;
    case 'volume_id':
      f.volume_id = value;
      return true;
    case 'metadata':
      f.metadata = parseMetadataFilter(value);
      return true;
    case 'project_id':
      f.project_id = value;
      return true;
    case 'user_id':
      f.user_id = value;
      return true;
    default:
      return false;
  }
}
