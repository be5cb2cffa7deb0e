import type { Knex } from 'knex';
import { ApiError } from '../domain/errors';

export type SortDir = 'asc' | 'desc';
/** One ORDER BY term: an SQL expression over the listed table and its direction. */
export interface SortTerm {
  readonly expr: string;
  readonly dir: SortDir;
}

/**
 * The most sort terms any list takes: no resource's whitelist of sort keys
 * is longer. applyKeyset refuses more, whatever the caller parsed; the
 * marker condition grows with the square of the term count.
 */
export const MAX_SORT_TERMS = 16;

/** Why a sort request is refused: a 400 as it stands (Cinder's text); each API may word it its own way. */
export class SortRefused extends ApiError {
  readonly reason: string;
  constructor(
    readonly why: 'too-many' | 'unknown-key' | 'duplicate-key',
    readonly key = '',
  ) {
    const reason = why === 'too-many' ? 'Too many sort keys' : why === 'unknown-key' ? 'Invalid sort key' : `Duplicate sort key: ${key}`;
    super(400, 'badRequest', `Invalid input received: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The one check of every keyset list's sort: each key from the resource's
 * whitelist `columns` (own keys only), no key (or alias of one column)
 * twice, so never more terms than the whitelist holds — counted before any
 * term is looked at, so a URL of hundreds of terms costs nothing.
 */
export function resolveSort<D>(
  pairs: ReadonlyArray<readonly [string, D]>,
  columns: Readonly<Record<string, string>>,
): Array<{ key: string; expr: string; dir: D }> {
  if (pairs.length > Math.min(MAX_SORT_TERMS, Object.keys(columns).length)) throw new SortRefused('too-many');
  const seen = new Set<string>();
  return pairs.map(([key, dir]) => {
    const expr = Object.hasOwn(columns, key) ? columns[key] : undefined;
    if (expr === undefined) throw new SortRefused('unknown-key', key);
    if (seen.has(expr)) throw new SortRefused('duplicate-key', key);
    seen.add(expr);
    return { key, expr, dir };
  });
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
  if (terms.length > MAX_SORT_TERMS) throw new SortRefused('too-many');
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

/**
 * A page's LIMIT, written into the statement's text rather than bound. A
 * prepared statement whose LIMIT is a parameter is planned afresh at every
 * execution: PostgreSQL costs its generic plan for an unknown limit (a tenth
 * of the table), which always loses to the custom plan, so the statement
 * never settles on the generic one (a volume detail page: 0.5 ms of planning
 * in every Bind). With the number in the text, the generic plan is reused.
 * The limit is the service's clamped integer; each distinct one is its own
 * statement text (src/db/pgStatements.ts names at most a few hundred).
 */
export function limitPage<Q extends Knex.QueryBuilder>(q: Q, limit: number): Q {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`page limit ${limit} is not a non-negative integer`);
  return q.limit(limit, { skipBinding: true }) as Q;
}
