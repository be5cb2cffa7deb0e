/**
 * An external Glance v2, read (and, for upload-to-image, written) over
 * HTTP. The token: in noauth, the caller's own `<user>:<project>` (so
 * Glance applies its visibility rules); with Keystone, cairn's service
 * token (cairn keeps no caller tokens: tasks outlive them), and the
 * visibility rule is applied here (`visibleTo`).
 */
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DriverError } from '../../domain/errors';
import { visibleTo, type Image, type ImageCaller, type ImageFile, type ImageService, type NewImage } from '../../domain/image';

/** Attributes of Glance's image schema; everything else in an image body is an extra property. */
const CORE = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'min_disk',
  'min_ram',
  'disk_format',
  'container_format',
  'owner',
  'created_at',
  'updated_at',
  'tags',
  'self',
  'file',
  'schema',
  'direct_url',
  'locations',
  'stores',
]);

/** An image as Glance's JSON has it (images-v2 api-ref: the core fields, then any extra property). */
export interface GlanceImageJson {
  id: string;
  name?: string | null;
  status: string;
  visibility?: string;
  protected?: boolean;
  os_hidden?: boolean;
  owner?: string | null;
  disk_format?: string | null;
  container_format?: string | null;
  size?: number | string | null;
  virtual_size?: number | string | null;
  checksum?: string | null;
  os_hash_algo?: string | null;
  os_hash_value?: string | null;
  min_disk?: number | string;
  min_ram?: number | string;
  tags?: string[];
  created_at: string;
  updated_at?: string;
  [property: string]: unknown;
}

/** An image as cairn holds it, from Glance's JSON. */
export function imageFromGlance(j: GlanceImageJson): Image {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(j)) if (!CORE.has(k)) properties[k] = v;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(j.id),
    name: j.name ?? null,
    status: String(j.status),
    visibility: String(j.visibility ?? 'shared'),
    protected: Boolean(j.protected),
    os_hidden: Boolean(j.os_hidden),
    owner: j.owner ?? null,
    disk_format: j.disk_format ?? null,
    container_format: j.container_format ?? null,
    size: num(j.size),
    virtual_size: num(j.virtual_size),
    checksum: j.checksum ?? null,
    os_hash_algo: j.os_hash_algo ?? null,
    os_hash_value: j.os_hash_value ?? null,
    min_disk: Number(j.min_disk ?? 0),
    min_ram: Number(j.min_ram ?? 0),
    properties,
    tags: Array.isArray(j.tags) ? j.tags : [],
    created_at: new Date(j.created_at),
    updated_at: new Date(j.updated_at ?? j.created_at),
  };
}

export interface GlanceClientOptions {
  /** Unversioned endpoint, e.g. http://glance:9292. */
  readonly url: string;
  /** The token for a caller: their own in noauth, the service token with Keystone. */
  readonly tokenFor: (caller: ImageCaller) => Promise<string>;
  /** Whether Glance sees the service token's scope, not the caller's: then visibility is checked here. */
  readonly checkVisibility: boolean;
  readonly timeoutMs?: number;
}

/** A Glance answer cairn did not expect: transient for 5xx and network failures. */
export class GlanceUnavailable extends DriverError {}

export class GlanceImageService implements ImageService {
  readonly kind = 'glance' as const;

  constructor(private readonly o: GlanceClientOptions) {}

  private async request(
    caller: ImageCaller,
    method: string,
    p: string,
    init: { body?: unknown; stream?: Readable; expect?: number[] } = {},
  ) {
    const headers: Record<string, string> = { 'X-Auth-Token': await this.o.tokenFor(caller), Accept: 'application/json' };
    let body: RequestInit['body'];
    if (init.stream) {
      headers['Content-Type'] = 'application/octet-stream';
      body = Readable.toWeb(init.stream) as RequestInit['body'];
    } else if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    let res: Response;
    try {
      res = await fetch(`${this.o.url}/v2${p}`, {
        method,
        headers,
        body,
        ...(init.stream ? { duplex: 'half' } : {}),
        signal: init.stream || p.endsWith('/file') ? undefined : AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
      } as RequestInit);
    } catch (err) {
      throw new GlanceUnavailable(`the image service at ${this.o.url} is unreachable: ${(err as Error).message}`, true);
    }
    if (init.expect && !init.expect.includes(res.status)) {
      const text = await res.text().catch(() => '');
      throw new GlanceUnavailable(`the image service answered ${method} ${p} with ${res.status}: ${text.slice(0, 300)}`, res.status >= 500);
    }
    return res;
  }

  async get(caller: ImageCaller, id: string): Promise<Image | undefined> {
    const res = await this.request(caller, 'GET', `/images/${encodeURIComponent(id)}`, { expect: [200, 404] });
    if (res.status === 404) return undefined;
    const image = imageFromGlance((await res.json()) as GlanceImageJson);
    return !this.o.checkVisibility || visibleTo(image, caller) ? image : undefined;
  }

  async findByName(caller: ImageCaller, name: string): Promise<Image[]> {
    const res = await this.request(caller, 'GET', `/images?name=${encodeURIComponent(name)}&limit=100`, { expect: [200] });
    const images = (((await res.json()) as { images?: GlanceImageJson[] }).images ?? []).map(imageFromGlance);
    return this.o.checkVisibility ? images.filter((i) => visibleTo(i, caller)) : images;
  }

  async create(caller: ImageCaller, f: NewImage): Promise<Image> {
    const body: Record<string, unknown> = { ...(f.properties ?? {}) };
    for (const k of [
      'id',
      'name',
      'visibility',
      'protected',
      'os_hidden',
      'disk_format',
      'container_format',
      'min_disk',
      'min_ram',
      'tags',
    ] as const) {
      if (f[k] !== undefined) body[k] = f[k];
    }
    // With the service token, the image is made for the caller's project.
    if (this.o.checkVisibility) body.owner = f.owner ?? caller.projectId;
    const res = await this.request(caller, 'POST', '/images', { body, expect: [201] });
    return imageFromGlance((await res.json()) as GlanceImageJson);
  }

  async upload(caller: ImageCaller, id: string, data: Readable): Promise<Image> {
    await this.request(caller, 'PUT', `/images/${encodeURIComponent(id)}/file`, { stream: data, expect: [204] });
    const image = await this.get(caller, id);
    if (!image) throw new GlanceUnavailable(`image ${id} disappeared after its upload`, false);
    return image;
  }

  async remove(caller: ImageCaller, id: string): Promise<void> {
    await this.request(caller, 'DELETE', `/images/${encodeURIComponent(id)}`, { expect: [204, 404] });
  }

  /**
   * Downloads into `<scratchDir>/image-<key>` through a `.part` file; a
   * complete download of an earlier attempt (same size) is reused.
   */
  async fetchToFile(caller: ImageCaller, image: Image, scratchDir: string, key: string): Promise<ImageFile> {
    const file = path.join(scratchDir, `image-${key}`);
    const release = async () => {
      await fs.rm(file, { force: true });
      await fs.rm(`${file}.part`, { force: true });
    };
    const done = await fs.stat(file).catch(() => undefined);
    if (done && image.size !== null && done.size === image.size) return { path: file, release };
    await fs.mkdir(scratchDir, { recursive: true });
    const res = await this.request(caller, 'GET', `/images/${encodeURIComponent(image.id)}/file`, { expect: [200, 204] });
    if (res.status === 204 || !res.body) throw new DriverError(`image ${image.id} has no data`, false);
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(`${file}.part`, { mode: 0o600 }));
      await fs.rename(`${file}.part`, file);
    } catch (err) {
      await fs.rm(`${file}.part`, { force: true });
      throw new GlanceUnavailable(`downloading image ${image.id} failed: ${(err as Error).message}`, true);
    }
    return { path: file, release };
  }
}
