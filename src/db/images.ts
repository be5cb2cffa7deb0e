import { isUuidLike } from '../domain/ids';
import type { Knex } from 'knex';
import type { Conn } from './connection';
import { applyKeyset, type SortTerm, limitPage } from './keyset';
import type { Image } from '../domain/image';

/** A row of `images` (cairn's own image store); bigints come back as strings from pg and are numbers here. */
export type DbImageRow = {
  -readonly [K in keyof Image]: K extends 'properties' ? Record<string, unknown> : K extends 'tags' ? string[] : Image[K];
};

/** Which images a list may show (Glance's visibility rules, `glance/db/sqlalchemy/api.py:_select_images_query`). */
export interface ImageScope {
  /** undefined: every image (an admin without a visibility filter). */
  readonly projectId: string | undefined;
  /** Only this visibility (the `visibility` filter); undefined: public + the project's own, not community. */
  readonly visibility?: string;
}

export interface ImageFilters {
  name?: string;
  status?: string;
  owner?: string;
  disk_format?: string;
  container_format?: string;
  protected?: boolean;
  os_hidden?: boolean;
  size_min?: number;
  size_max?: number;
  tags?: string[];
  id?: string;
  /** Extra properties, each equal to the given string. */
  properties?: Record<string, string>;
}

export interface ImageListQuery {
  scope: ImageScope;
  filters: ImageFilters;
  sort: readonly SortTerm[];
  limit: number;
  markerId?: string;
}

/** A row as the driver returns it: bigints as strings (pg), jsonb null where never written. */
type StoredImageRow = Omit<DbImageRow, 'size' | 'virtual_size' | 'properties' | 'tags'> & {
  size: string | number | null;
  virtual_size: string | number | null;
  properties: Record<string, unknown> | null;
  tags: string[] | null;
};

const fromDb = (r: StoredImageRow): DbImageRow => ({
  ...r,
  size: r.size === null ? null : Number(r.size),
  virtual_size: r.virtual_size === null ? null : Number(r.virtual_size),
  properties: r.properties ?? {},
  tags: r.tags ?? [],
});

const toDb = (fields: Partial<DbImageRow>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...fields };
  if (fields.properties !== undefined) out.properties = JSON.stringify(fields.properties);
  if (fields.tags !== undefined) out.tags = JSON.stringify(fields.tags);
  return out;
};

export async function insert(conn: Conn, row: DbImageRow): Promise<void> {
  await conn('images').insert(toDb(row));
}

export async function find(conn: Conn, id: string): Promise<DbImageRow | undefined> {
  const r = await conn('images').where({ id }).first();
  return r ? fromDb(r) : undefined;
}

export async function lock(conn: Conn, id: string): Promise<DbImageRow | undefined> {
  const r = await conn('images').where({ id }).forUpdate().first();
  return r ? fromDb(r) : undefined;
}

function applyScope(q: Knex.QueryBuilder, s: ImageScope): void {
  if (s.visibility !== undefined) {
    q.where('images.visibility', s.visibility);
    // Private and shared images of other projects stay hidden even when asked for by visibility.
    if (s.projectId !== undefined && s.visibility !== 'public' && s.visibility !== 'community') q.where('images.owner', s.projectId);
    return;
  }
  if (s.projectId === undefined) return;
  q.where((w) => {
    w.where('images.visibility', 'public').orWhere('images.owner', s.projectId!);
  });
}

function applyFilters(q: Knex.QueryBuilder, f: ImageFilters): void {
  // The column is a uuid: an id filter that is not one matches nothing (rather than failing the cast).
  if (f.id !== undefined) {
    if (isUuidLike(f.id)) q.where('images.id', f.id);
    else q.whereRaw('false');
  }
  if (f.name !== undefined) q.where('images.name', f.name);
  if (f.status !== undefined) q.where('images.status', f.status);
  if (f.owner !== undefined) q.where('images.owner', f.owner);
  if (f.disk_format !== undefined) q.where('images.disk_format', f.disk_format);
  if (f.container_format !== undefined) q.where('images.container_format', f.container_format);
  if (f.protected !== undefined) q.where('images.protected', f.protected);
  if (f.os_hidden !== undefined) q.where('images.os_hidden', f.os_hidden);
  if (f.size_min !== undefined) q.where('images.size', '>=', f.size_min);
  if (f.size_max !== undefined) q.where('images.size', '<=', f.size_max);
  if (f.properties && Object.keys(f.properties).length) q.whereRaw('images.properties @> ?::jsonb', [JSON.stringify(f.properties)]);
  for (const tag of f.tags ?? []) q.whereRaw('images.tags @> ?::jsonb', [JSON.stringify([tag])]);
}

export async function list(conn: Conn, query: ImageListQuery): Promise<DbImageRow[]> {
  const q = conn('images').select('images.*');
  applyScope(q, query.scope);
  applyFilters(q, query.filters);
  applyKeyset(q, 'images', query.sort, query.markerId);
  limitPage(q, query.limit);
  return (await q).map(fromDb);
}

export async function update(conn: Conn, id: string, fields: Partial<DbImageRow>): Promise<DbImageRow | undefined> {
  const [r] = await conn('images')
    .where({ id })
    .update(toDb({ ...fields, updated_at: new Date() }))
    .returning('*');
  return r ? fromDb(r) : undefined;
}

/** Compare-and-set on the status: undefined when the image was not in one of `from`. */
export async function casStatus(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Partial<DbImageRow>,
): Promise<DbImageRow | undefined> {
  const [r] = await conn('images')
    .where({ id })
    .whereIn('status', from as string[])
    .update(toDb({ ...fields, updated_at: new Date() }))
    .returning('*');
  return r ? fromDb(r) : undefined;
}

/**
 * Bytes a project's images hold, less one image (the one being uploaded): Glance's `user_get_storage_usage`
 * (active and saving images; killed and deleted ones hold nothing).
 */
export async function storageUsage(conn: Conn, owner: string, exceptId: string): Promise<number> {
  const [r] = await conn('images')
    .where({ owner })
    .whereNot({ id: exceptId })
    .whereNotIn('status', ['killed', 'deleted'])
    .sum({ n: 'size' });
  return Number(r?.n ?? 0);
}

export async function remove(conn: Conn, id: string): Promise<boolean> {
  return (await conn('images').where({ id }).delete()) > 0;
}
