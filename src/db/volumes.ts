import type { Knex } from 'knex';
import { paysPerField, type Conn } from './connection';
import { fixedStatementsByShape } from './fixedStatements';
import type { DbAttachmentRow } from './attachments';
import { applyKeyset, type SortTerm, limitPage } from './keyset';
import { isUuidLike } from '../domain/ids';
import { pgTypesTimestampsAsText } from './pgTimestamps';

export interface DbVolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  display_name: string | null;
  display_description: string | null;
  size: number;
  status: string;
  attach_status: string;
  availability_zone: string;
  volume_type_id: string;
  snapshot_id: string | null;
  source_volid: string | null;
  bootable: boolean;
  multiattach: boolean;
  host: string;
  backend: string;
  provider_location: string | null;
  metadata: Record<string, string>;
  admin_metadata: Record<string, string>;
  /** The size an extend in progress will give the volume (counted by quota usage meanwhile). */
  pending_size?: number | null;
  image_metadata?: Record<string, string> | null;
  /** The generic volume group it belongs to (3.13), if any. */
  group_id?: string | null;
  created_at: Date;
  updated_at: Date | null;
  launched_at: Date | null;
}

/** A volume with its type's name (and, once loaded, its shown attachments), as lists and shows need it. */
export interface DbVolumeView extends DbVolumeRow {
  volume_type_name: string | null;
  attachments?: DbAttachmentRow[];
}

/** A timestamp of a list page: the database's UTC text, or a Date (`isoCinder` writes either). */
export type ListedTime = Date | string;

/** An attachment as a detail page reads it: its timestamps left as the database wrote them. */
export type ListedAttachment = Omit<DbAttachmentRow, 'attach_time' | 'detach_time' | 'created_at' | 'updated_at'> & {
  attach_time: ListedTime | null;
  detach_time: ListedTime | null;
  created_at: ListedTime;
  updated_at: ListedTime | null;
};

/** A volume as a detail page reads it (a `DbVolumeView` is one too): its timestamps left as the database wrote them. */
export type ListedVolume = Omit<DbVolumeView, 'created_at' | 'updated_at' | 'launched_at' | 'attachments'> & {
  created_at: ListedTime;
  updated_at: ListedTime | null;
  launched_at: ListedTime | null;
  attachments?: ListedAttachment[];
};

/** Which volumes a caller may see: one project, or every project (admin `all_tenants`). */
export interface VolumeScope {
  readonly projectId: string | undefined;
}

export interface VolumeFilters {
  display_name?: string;
  display_name_like?: string;
  status?: string;
  metadata?: Record<string, string>;
  bootable?: boolean;
  availability_zone?: string;
  size?: number;
  volume_type_id?: string;
  host?: string;
  project_id?: string;
  user_id?: string;
  group_id?: string;
  /** Filters that no volume can satisfy (e.g. group_id=…, migration_status=…). */
  impossible?: boolean;
  /** `created_at`/`updated_at` comparisons (3.60): [column, operator, value]. */
  times?: Array<['created_at' | 'updated_at', '>' | '>=' | '<' | '<=' | '=' | '<>', Date]>;
}

const VIEW_COLUMNS = ['volumes.*', 'volume_types.name as volume_type_name'];

function base(conn: Conn, scope: VolumeScope) {
  const q = conn<DbVolumeView>('volumes').leftJoin('volume_types', 'volume_types.id', 'volumes.volume_type_id').select(VIEW_COLUMNS);
  if (scope.projectId !== undefined) q.where('volumes.project_id', scope.projectId);
  return q;
}

function applyFilters(q: Knex.QueryBuilder, f: VolumeFilters): void {
  if (f.impossible) q.whereRaw('false');
  if (f.display_name !== undefined) q.where('volumes.display_name', f.display_name);
  if (f.display_name_like !== undefined) q.whereILike('volumes.display_name', `%${f.display_name_like.replace(/[\\%_]/g, '\\$&')}%`);
  if (f.status !== undefined) q.where('volumes.status', f.status);
  if (f.metadata !== undefined) q.whereRaw('volumes.metadata @> ?::jsonb', [JSON.stringify(f.metadata)]);
  if (f.bootable !== undefined) q.where('volumes.bootable', f.bootable);
  if (f.availability_zone !== undefined) q.where('volumes.availability_zone', f.availability_zone);
  if (f.size !== undefined) q.where('volumes.size', f.size);
  if (f.volume_type_id !== undefined) q.where('volumes.volume_type_id', f.volume_type_id);
  if (f.host !== undefined) q.where('volumes.host', f.host);
  if (f.project_id !== undefined) q.where('volumes.project_id', f.project_id);
  if (f.user_id !== undefined) q.where('volumes.user_id', f.user_id);
  if (f.group_id !== undefined) q.where('volumes.group_id', f.group_id);
  for (const [col, op, value] of f.times ?? []) q.where(`volumes.${col}`, op, value);
}

/** A marker outside the caller's scope matches no row: the page comes back empty (and the service answers 404). */
const markerScope = (scope: VolumeScope): Record<string, string> => (scope.projectId === undefined ? {} : { project_id: scope.projectId });

export interface VolumeListQuery {
  scope: VolumeScope;
  filters: VolumeFilters;
  sort: readonly SortTerm[];
  limit: number;
  offset?: number;
  markerId?: string;
}

/** A page of `/volumes` (the summary list): ids and names only. */
export async function listSummaries(conn: Conn, query: VolumeListQuery): Promise<Array<Pick<DbVolumeRow, 'id' | 'display_name'>>> {
  const q = conn('volumes').select('volumes.id', 'volumes.display_name');
  if (query.scope.projectId !== undefined) q.where('volumes.project_id', query.scope.projectId);
  applyFilters(q, query.filters);
  applyKeyset(q, 'volumes', query.sort, query.markerId, markerScope(query.scope));
  limitPage(q, query.limit);
  if (query.offset) q.offset(query.offset);
  return q;
}

/**
 * Shows and list pages read each volume in ONE query: the row (`volumes.*`, so a
 * column added to the table reaches the view without touching this), its type's
 * name and its attachments in `attachmentStatuses` (oldest first, one json
 * value). On PGlite a page is ONE json value, `json_agg` over the ordered,
 * limited rows (as PostgREST builds its pages): it pays per field handed over
 * (`paysPerField`), and one value costs a fraction of 25 columns × 100 rows.
 * PostgreSQL renders that json about four times slower than it sends the rows
 * (1.5-2.2 ms against 0.40-0.46 ms for a page of 100, pgbench), so there the
 * page comes as rows. The attachments are read once for the whole page (`att`,
 * MATERIALIZED) rather than by a subquery per volume, which on a small
 * `volume_attachments` would rescan the table (and stat its file) once per row.
 */
function shownQuery(conn: Conn, page: Knex.QueryBuilder, attachmentStatuses: readonly string[], asRows: boolean) {
  const shown = `SELECT page.*, coalesce((SELECT att.list FROM att WHERE att.volume_id = page.id), '[]'::json) AS attachments FROM page`;
  return conn.raw(
    `WITH page AS ?,
       att AS MATERIALIZED (
         SELECT a.volume_id, json_agg(a ORDER BY a.created_at) AS list FROM volume_attachments a
          WHERE a.volume_id IN (SELECT id FROM page) AND a.attach_status IN (${attachmentStatuses.map(() => '?').join(', ')})
          GROUP BY a.volume_id)
     ${asRows ? shown : `SELECT coalesce(json_agg(shown), '[]'::json) AS page FROM (${shown}) shown`}`,
    [page, ...attachmentStatuses],
  );
}

async function readShown(conn: Conn, page: Knex.QueryBuilder, attachmentStatuses: readonly string[]): Promise<ListedVolume[]> {
  if (!paysPerField(conn)) {
    // Rows, typed by the driver but for the timestamps, left as text; the attachments are json.
    const { rows } = (await shownQuery(conn, page, attachmentStatuses, true).options({ types: pgTypesTimestampsAsText })) as {
      rows: Array<Record<string, unknown>>;
    };
    for (const v of rows) v.attachments = parsed(v.attachments);
    return rows as unknown as ListedVolume[];
  }
  const { rows } = (await shownQuery(conn, page, attachmentStatuses, false)) as { rows: Array<{ page: unknown }> };
  return parsedPage(rows[0]?.page) as unknown as ListedVolume[];
}

/**
 * The volume as shows need it (with its shown attachments), in one query; undefined outside
 * the scope. For one row a subquery per row plans faster than the page's CTEs. A fixed
 * statement per scope and number of statuses (src/db/fixedStatements.ts): the hottest read.
 */
export async function findShown(
  conn: Conn,
  id: string,
  scope: VolumeScope,
  attachmentStatuses: readonly string[],
): Promise<DbVolumeView | undefined> {
  if (!isUuidLike(id)) return undefined;
  const scoped = scope.projectId !== undefined;
  const rows = await shownStatement(scoped, attachmentStatuses.length)(
    conn,
    scoped ? [...attachmentStatuses, id, scope.projectId] : [...attachmentStatuses, id],
  );
  return rows.length ? revivePage([rows[0]!.v])[0] : undefined;
}

const shownStatement = fixedStatementsByShape<[scoped: boolean, statuses: number], { v: unknown }>(
  (scoped, statuses) =>
    `SELECT row_to_json(shown) AS v FROM (
       SELECT volumes.*, volume_types.name AS volume_type_name,
         (SELECT coalesce(json_agg(a ORDER BY a.created_at), '[]'::json) FROM volume_attachments a
           WHERE a.volume_id = volumes.id AND a.attach_status IN (${Array(statuses).fill('?').join(', ')})) AS attachments
       FROM volumes LEFT JOIN volume_types ON volume_types.id = volumes.volume_type_id
       WHERE volumes.id = ?${scoped ? ' AND volumes.project_id = ?' : ''}) shown`,
);

/**
 * A list page as `/volumes/detail` needs it (with shown attachments), in one query. Its timestamps stay the
 * database's text: the view only writes them out again, and a Date each cost ~0.3 µs of a page's 300 (issue 17).
 */
export async function listShown(conn: Conn, query: VolumeListQuery, attachmentStatuses: readonly string[]): Promise<ListedVolume[]> {
  const page = base(conn, query.scope);
  applyFilters(page, query.filters);
  applyKeyset(page, 'volumes', query.sort, query.markerId, markerScope(query.scope));
  limitPage(page, query.limit);
  if (query.offset) page.offset(query.offset);
  return readShown(conn, page, attachmentStatuses);
}

/** json gives timestamps as ISO 8601 text (with the session's offset); the rest of cairn holds Dates. */
const VOLUME_TIMES = ['created_at', 'updated_at', 'launched_at'] as const;
const ATTACHMENT_TIMES = ['attach_time', 'detach_time', 'created_at', 'updated_at'] as const;

function parsedPage(page: unknown): Array<Record<string, unknown>> {
  const rows = parsed(page ?? []) as Array<Record<string, unknown>>;
  for (let i = 0; i < rows.length; i++) rows[i] = parsed(rows[i]) as Record<string, unknown>;
  return rows;
}

function revivePage(page: unknown): DbVolumeView[] {
  const rows = parsedPage(page);
  for (const v of rows) {
    reviveTimes(v, VOLUME_TIMES);
    for (const a of v.attachments as Array<Record<string, unknown>>) reviveTimes(a, ATTACHMENT_TIMES);
  }
  return rows as unknown as DbVolumeView[];
}

/** node-postgres and PGlite both parse json; a driver that does not hands over the text. */
const parsed = (j: unknown): unknown => (typeof j === 'string' ? JSON.parse(j) : j);

function reviveTimes(row: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) {
    const t = row[k];
    if (typeof t === 'string') row[k] = new Date(t);
  }
}

export async function count(conn: Conn, scope: VolumeScope, filters: VolumeFilters): Promise<number> {
  const q = conn('volumes');
  if (scope.projectId !== undefined) q.where('volumes.project_id', scope.projectId);
  applyFilters(q, filters);
  const [row] = await q.count<{ n: string | number }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

export async function summary(conn: Conn, scope: VolumeScope): Promise<{ count: number; size: number }> {
  const q = conn('volumes');
  if (scope.projectId !== undefined) q.where('project_id', scope.projectId);
  const [row] = await q.select(conn.raw('count(*) as n, coalesce(sum(size), 0) as total'));
  return { count: Number(row.n), size: Number(row.total) };
}

/**
 * Each metadata key of the scope's volumes with its distinct values: PostgreSQL finds the distinct
 * pairs in one pass, and hands over those few instead of every row's metadata.
 */
export async function metadataOf(conn: Conn, scope: VolumeScope): Promise<Record<string, string[]>> {
  const where = scope.projectId === undefined ? '' : 'WHERE volumes.project_id = ?';
  const { rows } = (await conn.raw(
    `SELECT DISTINCT kv.key, kv.value FROM volumes, jsonb_each_text(volumes.metadata) kv ${where}`,
    scope.projectId === undefined ? [] : [scope.projectId],
  )) as { rows: Array<{ key: string; value: string }> };
  const byKey = new Map<string, string[]>(); // a Map: a key such as `__proto__` is data here
  for (const { key, value } of rows) {
    const values = byKey.get(key);
    if (values) values.push(value);
    else byKey.set(key, [value]);
  }
  return Object.fromEntries(byKey);
}

export async function find(conn: Conn, id: string, scope: VolumeScope): Promise<DbVolumeView | undefined> {
  if (!isUuidLike(id)) return undefined;
  return base(conn, scope).where('volumes.id', id).first();
}

/** The row alone, locked until the transaction ends (FOR UPDATE). */
export async function lock(conn: Conn, id: string, scope: VolumeScope): Promise<DbVolumeRow | undefined> {
  if (!isUuidLike(id)) return undefined;
  const q = conn<DbVolumeRow>('volumes').where('id', id).forUpdate();
  if (scope.projectId !== undefined) q.where('project_id', scope.projectId);
  return q.first();
}

export async function insert(conn: Conn, row: DbVolumeRow): Promise<void> {
  await conn('volumes').insert({
    ...row,
    metadata: JSON.stringify(row.metadata),
    admin_metadata: JSON.stringify(row.admin_metadata),
    ...(row.image_metadata ? { image_metadata: JSON.stringify(row.image_metadata) } : {}),
  });
}

type Writable = Partial<Omit<DbVolumeRow, 'id' | 'project_id' | 'created_at'>>;

function serialise(fields: Writable): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields, updated_at: fields.updated_at ?? new Date() };
  if (fields.metadata !== undefined) out.metadata = JSON.stringify(fields.metadata);
  if (fields.admin_metadata !== undefined) out.admin_metadata = JSON.stringify(fields.admin_metadata);
  if (fields.image_metadata !== undefined)
    out.image_metadata = fields.image_metadata === null ? null : JSON.stringify(fields.image_metadata);
  return out;
}

/**
 * Compare-and-set: updates the row only if its status is one of `from`;
 * returns the updated row, or undefined when the status did not match.
 */
export async function casStatus(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Writable & { status: string },
  scope: VolumeScope = { projectId: undefined },
): Promise<DbVolumeRow | undefined> {
  const [row] = await casStatusQuery(conn, id, from, fields, scope).returning('*');
  return row as DbVolumeRow | undefined;
}

/** casStatus's UPDATE, not run: for a statement that does more (a task's completion, src/db/tasks.ts). */
export function casStatusQuery(
  conn: Conn,
  id: string,
  from: readonly string[],
  fields: Writable & { status: string },
  scope: VolumeScope = { projectId: undefined },
): Knex.QueryBuilder {
  const q = conn<DbVolumeRow>('volumes')
    .where('id', id)
    .whereIn('status', from as string[]);
  if (scope.projectId !== undefined) q.where('project_id', scope.projectId);
  return q.update(serialise(fields));
}

/** Updates fields that are not the status (name, metadata…). */
export async function update(conn: Conn, id: string, fields: Omit<Writable, 'status'>): Promise<DbVolumeRow | undefined> {
  const [row] = await conn<DbVolumeRow>('volumes').where('id', id).update(serialise(fields)).returning('*');
  return row as DbVolumeRow | undefined;
}

export async function remove(conn: Conn, id: string): Promise<boolean> {
  return (await conn('volumes').where('id', id).delete().returning('*')).length > 0; // RETURNING: PGlite's knex client reports no row count for DELETE
}

export async function countOfType(conn: Conn, typeId: string): Promise<number> {
  const [row] = await conn('volumes').where('volume_type_id', typeId).count<{ n: string | number }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

export async function listAll(conn: Conn, backend?: string): Promise<DbVolumeRow[]> {
  const q = conn<DbVolumeRow>('volumes').orderBy('created_at');
  if (backend) q.where('backend', backend);
  return q;
}
