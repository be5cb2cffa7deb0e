/**
 * The rules of cairn's Glance v2 subset over the local store: list
 * parameters (`glance/api/v2/images.py:RequestDeserializer.index`),
 * the create body, the delete checks. Texts are Glance's.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ImageStatus, ImageTransitions, type Transition } from '../../domain/status';
import * as imagesDb from '../../db/images';
import type { ImageFilters, ImageScope } from '../../db/images';
import { resolveSort, SortRefused, type SortTerm } from '../../db/keyset';
import { GlanceError, glanceBadRequest, glanceConflict, glanceForbidden, noImage } from './errors';
import type { LocalImageStore } from './localStore';
import { imageStatus } from '../status/columns';
import { moveOrRefuse, refuseUnlessFrom } from '../status/move';
import {
  CONTAINER_FORMATS,
  DISK_FORMATS,
  IMAGE_VISIBILITIES,
  ImageVisibility,
  type Image,
  type ImageCaller,
  type NewImage,
} from '../../domain/image';

/** Glance's `limit_param_default` and `api_limit_max`. */
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

/** Glance's `_available_sort_keys`, as SQL over `images`. */
const SORT_KEYS: Readonly<Record<string, string>> = {
  name: "coalesce(images.name, '')",
  status: 'images.status',
  container_format: "coalesce(images.container_format, '')",
  disk_format: "coalesce(images.disk_format, '')",
  size: 'coalesce(images.size, -1)',
  id: 'images.id',
  created_at: 'images.created_at',
  updated_at: 'images.updated_at',
  visibility: 'images.visibility',
  min_disk: 'images.min_disk',
  min_ram: 'images.min_ram',
  owner: "coalesce(images.owner, '')",
  protected: 'images.protected',
  os_hidden: 'images.os_hidden',
  virtual_size: 'coalesce(images.virtual_size, -1)',
};

/** Query keys that are not property filters. */
const RESERVED_QUERY = new Set([
  'limit',
  'marker',
  'sort_key',
  'sort_dir',
  'sort',
  'visibility',
  'member_status',
  'name',
  'status',
  'owner',
  'disk_format',
  'container_format',
  'protected',
  'os_hidden',
  'size_min',
  'size_max',
  'tag',
  'id',
]);

/** Attributes a client may not set (`glance/api/v2/images.py:_readonly_properties`, `_reserved_properties`). */
const READ_ONLY = new Set([
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id_',
  'stores',
]);
const RESERVED = new Set(['location', 'deleted', 'deleted_at', 'locations']);

type Query = Record<string, string | string[] | undefined>;
const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const last = (v: string | string[] | undefined): string | undefined => all(v).at(-1);

export interface ImagePage {
  images: Image[];
  /** The marker of the next page, when this one is full. */
  nextMarker?: string;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^-?\d+$/.test(raw.trim())) throw glanceBadRequest('limit param must be an integer');
  const n = Number(raw);
  if (n < 0) throw glanceBadRequest('limit param must be positive');
  return Math.min(n, MAX_LIMIT);
}

function sortDir(d: string): 'asc' | 'desc' {
  if (d !== 'asc' && d !== 'desc') throw glanceBadRequest(`Invalid sort direction: ${d}`);
  return d;
}

/** Glance's keys through the one sort check of every list (src/db/keyset.ts), in Glance's words. */
function sortTerms(pairs: Array<readonly [string, string]>): SortTerm[] {
  try {
    return resolveSort(pairs, SORT_KEYS).map(({ expr, dir }) => ({ expr, dir: sortDir(dir) }));
  } catch (err) {
    if (!(err instanceof SortRefused)) throw err;
    if (err.why === 'unknown-key')
      throw glanceBadRequest(`Invalid sort key: ${err.key}. It must be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
    throw glanceBadRequest(err.why === 'duplicate-key' ? `Sort key ${err.key} is given more than once` : 'Too many sort keys');
  }
}

/** `sort=k1:dir,k2` (new syntax) or repeated `sort_key`/`sort_dir` (old); never both. Default created_at desc. */
export function parseImageSort(q: Query): SortTerm[] {
  const sort = last(q.sort);
  const keys = all(q.sort_key);
  const dirs = all(q.sort_dir);
  if (sort !== undefined && (keys.length || dirs.length)) {
    throw glanceBadRequest('Old and new sorting syntax cannot be combined');
  }
  if (sort !== undefined) {
    return sortTerms(
      sort.split(',').map((part) => {
        const [k, d = 'desc'] = part.trim().split(':');
        return [k!.trim(), d.trim()] as const;
      }),
    );
  }
  if (dirs.length > 1 && dirs.length !== keys.length) throw glanceBadRequest('Number of sort dirs does not match the number of sort keys');
  const ks = keys.length ? keys : ['created_at'];
  return sortTerms(ks.map((k, i) => [k, dirs[i] ?? dirs[0] ?? 'desc'] as const));
}

function parseBoolFilter(v: string, name: string): boolean {
  const s = v.toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(s)) return false;
  throw glanceBadRequest(
    `Unrecognized value '${v}' for '${name}', acceptable values are: 't', 'true', 'on', 'y', 'yes', '1', 'f', 'false', 'off', 'n', 'no', '0'`,
  );
}

function parseSize(v: string, name: string): number {
  // Beyond 2^53 a JS number is no longer the integer asked for (and beyond 2^63 no bigint column holds it).
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw glanceBadRequest(`Invalid value for ${name}: must be a non-negative integer`);
  return Number(v);
}

/** Filters and scope of `GET /v2/images`. */
export function parseImageFilters(
  q: Query,
  caller: ImageCaller,
): { scope: ImageScope; filters: ImageFilters; properties: Record<string, string> } {
  const visibility = last(q.visibility);
  if (visibility !== undefined && visibility !== 'all' && !IMAGE_VISIBILITIES.includes(visibility)) {
    throw glanceBadRequest(`Invalid visibility value: ${visibility}`);
  }
  const projectId = caller.isAdmin ? undefined : caller.projectId;
  const scope: ImageScope =
    visibility === undefined
      ? { projectId: caller.isAdmin ? undefined : caller.projectId }
      : visibility === 'all'
        ? { projectId }
        : { projectId, visibility };
  const f: ImageFilters = {};
  const str = (k: string) => last(q[k]);
  if (str('name') !== undefined) f.name = str('name');
  if (str('status') !== undefined) f.status = str('status');
  if (str('owner') !== undefined) f.owner = str('owner');
  if (str('disk_format') !== undefined) f.disk_format = str('disk_format');
  if (str('container_format') !== undefined) f.container_format = str('container_format');
  if (str('id') !== undefined) f.id = str('id');
  if (str('protected') !== undefined) f.protected = parseBoolFilter(str('protected')!, 'protected');
  if (str('os_hidden') !== undefined) f.os_hidden = parseBoolFilter(str('os_hidden')!, 'os_hidden');
  else f.os_hidden = false; // Glance hides os_hidden images unless asked (`os_hidden=true`)
  if (str('size_min') !== undefined) f.size_min = parseSize(str('size_min')!, 'size_min');
  if (str('size_max') !== undefined) f.size_max = parseSize(str('size_max')!, 'size_max');
  if (q.tag !== undefined) f.tags = all(q.tag);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (!RESERVED_QUERY.has(k) && v !== undefined) properties[k] = last(v)!;
  return { scope, filters: f, properties };
}

export class GlanceApi {
  constructor(private readonly store: LocalImageStore) {}

  private get db() {
    return this.store.db;
  }

  async list(caller: ImageCaller, q: Query): Promise<ImagePage> {
    const limit = parseLimit(last(q.limit));
    const sort = parseImageSort(q);
    const { scope, filters, properties } = parseImageFilters(q, caller);
    const marker = last(q.marker);
    if (marker !== undefined && !(await this.store.get(caller, marker))) throw glanceBadRequest(`No image found with ID ${marker}`);
    const rows = await imagesDb.list(this.db, { scope, filters: { ...filters, properties }, sort, limit, markerId: marker });
    return { images: rows, nextMarker: rows.length > 0 && rows.length === limit ? rows.at(-1)!.id : undefined };
  }

  async show(caller: ImageCaller, id: string): Promise<Image> {
    const image = await this.store.get(caller, id);
    if (!image) throw noImage(id);
    return image;
  }

  /** `POST /v2/images`: Glance's checks on the body, then a queued image. */
  async create(caller: ImageCaller, body: unknown): Promise<Image> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw glanceBadRequest('Body expected in request.');
    const b = { ...(body as Record<string, unknown>) };
    for (const k of Object.keys(b)) {
      if (READ_ONLY.has(k)) throw glanceForbidden(`Attribute '${k}' is read-only.`);
      if (RESERVED.has(k)) throw glanceForbidden(`Attribute '${k}' is reserved.`);
    }
    const fields: { -readonly [K in keyof NewImage]: NewImage[K] } = {};
    const take = <T>(k: string, check: (v: unknown) => v is T, what: string): T | undefined => {
      if (!(k in b)) return undefined;
      const v = b[k];
      delete b[k];
      if (!check(v)) throw glanceBadRequest(`Provided object does not match schema 'image': ${JSON.stringify(v)} is not ${what}`);
      return v;
    };
    const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
    const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
    const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
    const oneOf =
      (list: readonly string[]) =>
      (v: unknown): v is string | null =>
        v === null || (typeof v === 'string' && list.includes(v));
    const id = take(
      'id',
      (v): v is string => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
      "a valid UUID ('id')",
    );
    if (id !== undefined) fields.id = id.toLowerCase();
    fields.name = take(
      'name',
      (v): v is string | null => isStrOrNull(v) && (v === null || v.length <= 255),
      "a string of at most 255 characters ('name')",
    );
    fields.disk_format = take('disk_format', oneOf(DISK_FORMATS), `one of ${JSON.stringify(DISK_FORMATS)}`);
    fields.container_format = take('container_format', oneOf(CONTAINER_FORMATS), `one of ${JSON.stringify(CONTAINER_FORMATS)}`);
    fields.visibility = take(
      'visibility',
      (v): v is string => typeof v === 'string' && IMAGE_VISIBILITIES.includes(v),
      `one of ${JSON.stringify(IMAGE_VISIBILITIES)}`,
    );
    fields.protected = take('protected', isBool, "of type 'boolean'");
    fields.os_hidden = take('os_hidden', isBool, "of type 'boolean'");
    fields.min_disk = take('min_disk', isInt, "a non-negative integer ('min_disk')");
    fields.min_ram = take('min_ram', isInt, "a non-negative integer ('min_ram')");
    fields.tags = take(
      'tags',
      (v): v is string[] => Array.isArray(v) && v.every((t) => typeof t === 'string' && t.length <= 255),
      "an array of strings ('tags')",
    );
    const owner = take('owner', isStrOrNull, "a string ('owner')");
    if (owner !== undefined && owner !== caller.projectId && !caller.isAdmin) {
      throw glanceForbidden(`You are not permitted to create images owned by '${owner}'.`);
    }
    if (owner !== undefined) fields.owner = owner;
    if (fields.visibility === ImageVisibility.public && !caller.isAdmin) {
      throw glanceForbidden('You are not authorized to complete publicize_image action.');
    }
    // Everything else is an extra property; Glance keeps them as strings.
    for (const [k, v] of Object.entries(b)) {
      if (k.length > 255) throw glanceBadRequest(`Provided object does not match schema 'image': property name too long: ${k}`);
      if (typeof v !== 'string')
        throw glanceBadRequest(`Provided object does not match schema 'image': ${JSON.stringify(v)} is not of type 'string' ('${k}')`);
    }
    // Glance's quotas (glance/quota): tags when the image is made, extra properties when it is added; 413 both.
    const { tagQuota, propertyQuota } = this.store.limits;
    const tagCount = new Set(fields.tags ?? []).size;
    if (tagQuota >= 0 && tagCount > tagQuota) {
      throw new GlanceError(
        413,
        `The limit has been exceeded on the number of allowed image tags. Attempted: ${tagCount}, Maximum: ${tagQuota}`,
      );
    }
    const propertyCount = Object.keys(b).length;
    if (propertyQuota >= 0 && propertyCount > propertyQuota) {
      throw new GlanceError(
        413,
        `The limit has been exceeded on the number of allowed image properties. Attempted: ${propertyCount}, Maximum: ${propertyQuota}`,
      );
    }
    fields.properties = b;
    if (fields.id && (await imagesDb.find(this.db, fields.id))) throw glanceConflict(`Image with identifier ${fields.id} already exists!`);
    return this.store.create(caller, { ...fields, id: fields.id ?? randomUUID() });
  }

  /** `DELETE /v2/images/{id}`: 404 unless visible; only its owner (or an admin) may; never a protected one. */
  async delete(caller: ImageCaller, id: string): Promise<void> {
    const image = await this.show(caller, id);
    if (!caller.isAdmin && image.owner !== caller.projectId) throw glanceForbidden('You are not permitted to delete this image.');
    if (image.protected) throw glanceForbidden(`Image ${id} is protected and cannot be deleted.`);
    await this.store.remove(caller, id);
  }

  /**
   * `POST /v2/images/{id}/actions/deactivate` (`image_actions.py`, domain
   * `Image.deactivate`): an active image becomes deactivated, a deactivated
   * one stays; any other status is refused. Its owner or an admin.
   */
  async deactivate(caller: ImageCaller, id: string): Promise<void> {
    await this.toggle(caller, id, 'deactivate', ImageTransitions.deactivate);
  }

  /** `POST …/actions/reactivate`: deactivated → active; an active one stays. */
  async reactivate(caller: ImageCaller, id: string): Promise<void> {
    await this.toggle(caller, id, 'reactivate', ImageTransitions.reactivate);
  }

  private async toggle(caller: ImageCaller, id: string, action: string, t: Transition<ImageStatus>): Promise<void> {
    const image = await this.show(caller, id);
    if (!caller.isAdmin && image.owner !== caller.projectId) throw glanceForbidden(`You are not authorized to complete ${action} action.`);
    if (image.status === t.to) return;
    const refuse = () => glanceForbidden(`Not allowed to ${action} image in status '${image.status}'`);
    refuseUnlessFrom(t, image.status, refuse);
    await moveOrRefuse(this.db, imageStatus, id, t, refuse);
  }

  /** `PUT /v2/images/{id}/file`: only a queued image of the caller's (or an admin). */
  async upload(caller: ImageCaller, id: string, contentType: string | undefined, data: Readable, contentLength?: string): Promise<void> {
    const image = await this.show(caller, id);
    if (contentType !== undefined && !/^application\/octet-stream\b/i.test(contentType)) {
      throw new GlanceError(415, `Content type '${contentType}' not supported`);
    }
    if (!caller.isAdmin && image.owner !== caller.projectId) throw glanceForbidden('You are not permitted to upload data to this image.');
    if (image.status !== ImageStatus.queued) throw glanceConflict(`Image status transition from ${image.status} to saving is not allowed`);
    const declared = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
    await this.store.upload(caller, id, data, declared);
  }
}
