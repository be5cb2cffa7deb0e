import { badRequest, invalidInput } from '../domain/errors';
import { parsePyLiteral } from '../domain/pyLiteral';
import { resolveSort, SortRefused, type SortDir, type SortTerm } from '../db/keyset';

/** Cinder's `osapi_max_limit`: the default and the cap of a page. */
export const MAX_LIMIT = 1000;
const DB_MAX_INT = 0x7fffffff;

/** Query keys that steer a list rather than filter it (`cinder/api/common.py`). */
const PAGING_KEYS = new Set(['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir', 'with_count']);

export interface Paging {
  limit: number;
  /** Whether the caller asked for a limit (decides when a next link is due). */
  limitGiven: boolean;
  offset: number;
  marker: string | undefined;
  sort: SortTerm[];
  withCount: boolean;
}

export type RawQuery = Record<string, string | string[] | undefined>;

/**
 * What a list query may hold at the caller's microversion. The HTTP layer decides
 * (src/http/cinder/listRules.ts), as Cinder's controllers do; the services see flags.
 */
export interface ListRules {
  /** A filter the resource does not know is refused (3.31); before, it is dropped. */
  readonly strictFilters: boolean;
  /** `with_count` is read (3.45). */
  readonly withCount: boolean;
}

/** The rules of the base microversion (3.0): what a caller without one, like Nova's proxies, gets. */
export const BASE_LIST_RULES: ListRules = { strictFilters: false, withCount: false };

export const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * Parses limit/marker/offset/sort/sort_key/sort_dir. `sortColumns` maps API
 * sort keys to SQL expressions; an unknown key is Cinder's 400.
 */
export function parsePaging(q: RawQuery, sortColumns: Readonly<Record<string, string>>, rules: ListRules): Paging {
  const rawLimit = one(q.limit);
  let limit = MAX_LIMIT;
  if (rawLimit !== undefined) {
    if (!/^-?\d+$/.test(rawLimit)) throw badRequest('limit param must be an integer');
    limit = Number(rawLimit);
    if (limit < 0) throw badRequest('limit param must be positive');
    limit = Math.min(limit, MAX_LIMIT);
  }
  const rawOffset = one(q.offset);
  let offset = 0;
  if (rawOffset !== undefined) {
    if (!/^-?\d+$/.test(rawOffset)) throw badRequest('offset param must be an integer');
    offset = Number(rawOffset);
    if (offset < 0) throw badRequest('offset param must be positive');
    // Cinder's `validate_integer(offset, 'offset', 0, DB_MAX_INT)`.
    if (offset > DB_MAX_INT) throw invalidInput(`offset must be <= ${DB_MAX_INT}`);
  }
  const sort = parseSort(q, sortColumns);
  const withCountRaw = one(q.with_count);
  const withCount = rules.withCount && withCountRaw !== undefined && parseBool(withCountRaw, 'with_count');
  return { limit, limitGiven: rawLimit !== undefined, offset, marker: one(q.marker), sort, withCount };
}

function parseSort(q: RawQuery, columns: Readonly<Record<string, string>>): SortTerm[] {
  const sort = one(q.sort);
  const sortKey = one(q.sort_key);
  const sortDir = one(q.sort_dir);
  if (sort !== undefined && (sortKey !== undefined || sortDir !== undefined)) {
    throw badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  const pairs: Array<[string, string | undefined]> =
    sort !== undefined
      ? sort.split(',').map((s) => {
          const [k, d] = s.trim().split(':');
          return [k!.trim(), d?.trim()];
        })
      : sortKey !== undefined
        ? [[sortKey, sortDir]]
        : [['created_at', sortDir]];
  let terms;
  try {
    terms = resolveSort(pairs, columns);
  } catch (err) {
    // Cinder's texts: "Invalid sort key" for a key outside the resource's; the others as InvalidInput too.
    if (err instanceof SortRefused) throw invalidInput(err.reason);
    throw err;
  }
  return terms.map(({ expr, dir }) => {
    const d = (dir ?? 'desc').toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw invalidInput("Unknown sort direction, must be 'desc' or 'asc'");
    return { expr, dir: d as SortDir };
  });
}

/** Cinder's `strutils.bool_from_string(strict=True)`. */
export function parseBool(v: string, name: string): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw invalidInput(
    `Unrecognized value '${v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`.replace(
      /^/,
      `${name}: `,
    ),
  );
}

/**
 * The filter part of a list query: everything but the paging keys. With
 * `strictFilters` a key outside `allowed` is a 400; else it is dropped.
 * `all_tenants` is never a filter.
 */
export function filterParams(q: RawQuery, allowed: ReadonlySet<string>, rules: ListRules): Map<string, string> {
  const out = new Map<string, string>();
  const invalid: string[] = [];
  for (const [key, raw] of Object.entries(q)) {
    const v = one(raw);
    if (v === undefined || PAGING_KEYS.has(key) || key === 'all_tenants') continue;
    const base = key.endsWith('~') ? key.slice(0, -1) : key;
    if (!allowed.has(base)) {
      invalid.push(key);
      continue;
    }
    out.set(key, v);
  }
  if (invalid.length && rules.strictFilters) {
    throw badRequest(`Invalid filters ${invalid.join(', ')} are found in query options.`);
  }
  return out;
}

/** A metadata filter value: a Python/JSON dict literal of strings. */
export function parseMetadataFilter(v: string): Record<string, string> {
  const parsed = parsePyLiteral(v);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidInput(`Invalid metadata filter: ${v}`);
  }
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, val]) => [k, String(val)]));
}
