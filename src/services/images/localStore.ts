/**
 * cairn's own image store: records in the `images` table, data in
 * `<imageDir>/<id>` (written to `<id>.part`, hashed on the way, renamed
 * into place). Serves the ImageService interface for volumes and workers,
 * and the Glance v2 subset for clients (src/http/glance/routes.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { isUuidLike } from '../../domain/ids';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ImageStatus, ImageTransitions } from '../../domain/status';
import type { Db } from '../../db/connection';
import * as imagesDb from '../../db/images';
import type { DbImageRow } from '../../db/images';
import { GlanceError, glanceConflict, noImage } from './errors';
import { imageStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse } from '../status/move';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../../config';
import {
  ImageVisibility,
  visibleTo,
  type Image,
  type ImageCaller,
  type ImageFile,
  type ImageService,
  type NewImage,
} from '../../domain/image';

export class LocalImageStore implements ImageService {
  readonly kind = 'local' as const;

  constructor(
    readonly db: Db,
    readonly dir: string,
    readonly limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  ) {}

  /** Where an image's data lives; ids are UUIDs, checked before they become paths. */
  dataPath(id: string): string {
    if (!/^[0-9a-f-]{36}$/i.test(id) || !isUuidLike(id)) throw noImage(id);
    return path.join(this.dir, id);
  }

  async get(caller: ImageCaller, id: string): Promise<Image | undefined> {
    if (!isUuidLike(id)) return undefined; // the column is a uuid: anything else names no image
    const row = await imagesDb.find(this.db, id);
    return row && visibleTo(row, caller) ? row : undefined;
  }

  async findByName(caller: ImageCaller, name: string): Promise<Image[]> {
    const rows = await imagesDb.list(this.db, {
      scope: { projectId: caller.isAdmin ? undefined : caller.projectId },
      filters: { name },
      sort: [{ expr: 'images.created_at', dir: 'desc' }],
      limit: 100,
    });
    return rows.filter((r) => visibleTo(r, caller));
  }

  async create(caller: ImageCaller, f: NewImage): Promise<Image> {
    const now = new Date();
    const row: DbImageRow = {
      id: f.id ?? randomUUID(),
      name: f.name ?? null,
      status: ImageStatus.queued,
      visibility: f.visibility ?? ImageVisibility.shared,
      protected: f.protected ?? false,
      os_hidden: f.os_hidden ?? false,
      owner: f.owner !== undefined && caller.isAdmin ? f.owner : caller.projectId,
      disk_format: f.disk_format ?? null,
      container_format: f.container_format ?? null,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_disk: f.min_disk ?? 0,
      min_ram: f.min_ram ?? 0,
      properties: { ...(f.properties ?? {}) },
      tags: [...(f.tags ?? [])],
      created_at: now,
      updated_at: now,
    };
    await imagesDb.insert(this.db, row);
    return row;
  }

  /**
   * Stores the data: queued (or saving, a retried upload) → saving → active
   * with size, md5 checksum and sha512 hash (Glance's defaults). A failure
   * leaves the image `killed` and no data behind; data beyond a limit
   * (`image_size_cap`, the owner's `user_storage_quota`) is Glance's 413 and
   * leaves the image queued again (Glance's `_restore`). `declaredSize` (a
   * Content-Length) is refused before a byte is read when it is already too
   * much, as Glance's `check_quota` does.
   */
  async upload(caller: ImageCaller, id: string, data: Readable, declaredSize?: number): Promise<Image> {
    const image = await this.get(caller, id);
    if (!image) throw noImage(id);
    const owner = image.owner ?? caller.projectId;
    const remaining = async () =>
      this.limits.userStorageQuota > 0 ? this.limits.userStorageQuota - (await imagesDb.storageUsage(this.db, owner, id)) : Infinity;
    if (declaredSize !== undefined) limitProblem(declaredSize, this.limits.sizeCap, await remaining());
    await moveOrRefuse(this.db, imageStatus, id, ImageTransitions.beginUpload, () =>
      glanceConflict(`Image status transition from ${image.status} to saving is not allowed`),
    );
    const file = this.dataPath(id);
    const part = `${file}.part`;
    try {
      await fs.mkdir(this.dir, { recursive: true });
      const room = await remaining();
      const { size, md5, sha512 } = await writeSparse(data, part, (n) => limitProblem(n, this.limits.sizeCap, room));
      // Two uploads of one owner at once: each fitted alone; the second to finish checks again (Glance does too).
      limitProblem(size, this.limits.sizeCap, await remaining());
      await fs.rename(part, file);
      return await moveOrRefuse(
        this.db,
        imageStatus,
        id,
        ImageTransitions.uploadDone,
        () => glanceConflict(`Image ${id} was deleted or changed during the upload`),
        { size, virtual_size: null, checksum: md5, os_hash_algo: 'sha512', os_hash_value: sha512 },
      );
    } catch (err) {
      await fs.rm(part, { force: true });
      const t = err instanceof GlanceError && err.status === 413 ? ImageTransitions.uploadRefused : ImageTransitions.uploadFailed;
      await moveIfStill(this.db, imageStatus, id, t);
      throw err;
    }
  }

  async remove(_caller: ImageCaller, id: string): Promise<void> {
    await imagesDb.remove(this.db, id);
    await fs.rm(this.dataPath(id), { force: true });
    await fs.rm(`${this.dataPath(id)}.part`, { force: true });
  }

  /** The stored file itself: nothing to download, nothing to release. */
  async fetchToFile(_caller: ImageCaller, image: Image): Promise<ImageFile> {
    return { path: this.dataPath(image.id), release: async () => undefined };
  }
}

/**
 * Glance's 413s for `size` bytes of image data: beyond `image_size_cap` (ImageSizeLimitExceeded, "The incoming image
 * is too large"), beyond what the owner's `user_storage_quota` leaves (StorageQuotaFull). `size`: declared, or read so far.
 */
function limitProblem(size: number, cap: number, remaining: number): void {
  if (size > cap) throw new GlanceError(413, 'The incoming image is too large: The provided image is too large.');
  if (size > remaining) {
    const left = Math.max(0, remaining);
    throw new GlanceError(
      413,
      `Image exceeds the storage quota: The size of the data ${size} will exceed the limit. ${left} bytes remaining.`,
    );
  }
}

/**
 * Writes a stream to `file` (created or truncated), hashing it on the way
 * (md5: Glance's `checksum`; sha512: its default `os_hash_algo`). Chunks
 * of zeros are not written: volume images are mostly holes, and the file
 * keeps them as holes. Flushed before it returns.
 */
async function writeSparse(
  data: Readable,
  file: string,
  check: (size: number) => void,
): Promise<{ size: number; md5: string; sha512: string }> {
  const md5 = createHash('md5');
  const sha = createHash('sha512');
  const fh = await fs.open(file, 'w', 0o600);
  let zero = Buffer.alloc(0);
  let size = 0;
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) {
      check(size + chunk.length);
      md5.update(chunk);
      sha.update(chunk);
      if (zero.length < chunk.length) zero = Buffer.alloc(chunk.length);
      if (!chunk.equals(zero.subarray(0, chunk.length))) {
        for (let done = 0; done < chunk.length;) done += (await fh.write(chunk, done, chunk.length - done, size + done)).bytesWritten;
      }
      size += chunk.length;
    }
    await fh.truncate(size);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { size, md5: md5.digest('hex'), sha512: sha.digest('hex') };
}
