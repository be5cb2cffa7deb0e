import type { Knex } from 'knex';

export type SortDir = 'asc' | 'desc';
/** One ORDER BY term: an SQL expression over the listed table and its direction. */
export interface SortTerm {
  readonly expr: string;
  readonly dir: SortDir;
}

/**
 * Orders `q` by `terms` (plus `id` for a total order) and, when `markerId` is
 * given, keeps only rows after the marker row — keyset pagination, so a
 * page's cost does not grow with its offset. Marker values are read by a
 * subquery on `table`, so they never round-trip through JavaScript types.
 * `markerWhere` (column → value) must also hold for the marker row: a marker
 * outside it matches nothing, so the page is empty (the caller may then check
 * the marker itself, instead of before every page).
 */
export function applyKeyset(
  q: Knex.QueryBuilder,
  table: string,
  terms: readonly SortTerm[],
  markerId: string | undefined,
  markerWhere: Readonly<Record<string, string>> = {},
): void {
  const all = [...terms, { expr: `${table}.id`, dir: terms[0]?.dir ?? 'desc' } as SortTerm];
  for (const t of all) q.orderByRaw(`${t.expr} ${t.dir}`);
  if (markerId === undefined) return;
  const extra = Object.keys(markerWhere);
  const bindings = [markerId, ...Object.values(markerWhere)];
  const markerSelect = (exprs: string) =>
    `(SELECT ${exprs} FROM ${table} WHERE ${table}.id = ?${extra.map((c) => ` AND ${table}.${c} = ?`).join('')})`;
  if (all.every((t) => t.dir === all[0]!.dir)) {
    // One row comparison: lets PostgreSQL walk a matching composite index.
    const exprs = all.map((t) => t.expr).join(', ');
    q.whereRaw(`(${exprs}) ${all[0]!.dir === 'asc' ? '>' : '<'} ${markerSelect(exprs)}`, bindings);
    return;
  }
  q.where((w) => {
    all.forEach((term, i) => {
      w.orWhere((and) => {
        for (const prev of all.slice(0, i)) and.whereRaw(`${prev.expr} = ${markerSelect(prev.expr)}`, bindings);
        and.whereRaw(`${term.expr} ${term.dir === 'asc' ? '>' : '<'} ${markerSelect(term.expr)}`, bindings);
      });
    });
  });
}
