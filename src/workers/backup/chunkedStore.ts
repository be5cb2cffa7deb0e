/**
 * The backup service's storage: a POSIX directory (`CAIRN_BACKUP_DIR`, e.g.
 * an NFS mount, as Cinder's posix driver), one folder per container, one
 * folder per backup below it. A backup is fixed-size chunks, each stored as
 * its own zlib-compressed object with the SHA-256 of its raw bytes, and a
 * metadata object naming, for every chunk of the volume, where its data is:
 * in this backup's folder, in an ancestor's (an incremental backup stores
 * only the chunks whose hash changed against its parent, as Cinder's
 * chunked driver compares its sha256 files), or nowhere (all zeros: not
 * stored, and restored as a hole). The metadata object is written last, by
 * rename: a backup folder without one is unfinished, and a re-run starts
 * it over. Restore checks every chunk's hash before it writes it.
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DriverError } from '../../domain/errors';
import { fsFailure } from '../drivers/fsErrors';

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

export const METADATA_OBJECT = 'metadata.json';
export const BACKUP_FORMAT = 'cairn-chunked-1';
/** Below this, a fresh restore target skips all-zero blocks inside a chunk too (they stay holes). */
const SPARSE_BLOCK = 64 * 1024;

/** One chunk of the volume: its hash and the object holding it (relative to the backup root), or all zeros. */
export type ChunkEntry = { readonly sha256: string; readonly object: string } | { readonly zero: true };

export interface BackupMetadata {
  readonly format: typeof BACKUP_FORMAT;
  readonly backup_id: string;
  readonly volume_id: string;
  readonly parent_id: string | null;
  readonly size_bytes: number;
  readonly chunk_bytes: number;
  readonly created_at: string;
  /** Volume facts a restore gives back (Cinder keeps them in the backup's volume metadata). */
  readonly volume: {
    readonly bootable: boolean;
    readonly image_metadata: Record<string, string> | null;
    readonly metadata?: Record<string, string>;
  };
  readonly chunks: readonly ChunkEntry[];
}

export interface Progress {
  (done: number, total: number): void;
}

const isZero = (buf: Buffer): boolean => {
  for (let off = 0; off < buf.length; off += SPARSE_BLOCK) {
    const part = buf.subarray(off, Math.min(buf.length, off + SPARSE_BLOCK));
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
};
const ZERO = Buffer.alloc(SPARSE_BLOCK);

export class ChunkedBackupStore {
  /**
   * @param root the backup directory; every folder is below it.
   * @param chunkBytes the chunk size of new backups (a multiple of 64 KiB).
   * @param pauseMs test-only: a pause after each chunk (CAIRN_FAULT_DRIVER_DELAY_MS), so a kill lands mid-transfer.
   */
  constructor(
    readonly root: string,
    readonly chunkBytes: number,
    private readonly pauseMs = 0,
  ) {
    if (chunkBytes <= 0 || chunkBytes % SPARSE_BLOCK !== 0)
      throw new Error(`backup chunk size must be a positive multiple of ${SPARSE_BLOCK} bytes`);
  }

  /** A folder's absolute path, checked to stay below the root. */
  folderPath(folder: string): string {
    const p = path.resolve(this.root, folder);
    const rel = path.relative(this.root, p);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new DriverError(`backup folder ${folder} is outside ${this.root}`, false);
    return p;
  }

  async readMetadata(folder: string): Promise<BackupMetadata> {
    const file = path.join(this.folderPath(folder), METADATA_OBJECT);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DriverError(`the backup's metadata object ${file} is missing`, false);
      throw fsFailure(`read ${file}`, err);
    }
    const meta = JSON.parse(text) as BackupMetadata;
    if (meta.format !== BACKUP_FORMAT) throw new DriverError(`${file} is not a ${BACKUP_FORMAT} backup`, false);
    return meta;
  }

  /** Whether the folder holds a finished backup (its metadata object). */
  async finished(folder: string): Promise<boolean> {
    return fs.access(path.join(this.folderPath(folder), METADATA_OBJECT)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Backs up `source` (a file or device of `sizeBytes`) into `folder`.
   * With `parent`, a chunk whose hash equals the parent's keeps pointing at
   * the parent's object. Idempotent: a finished folder is left as it is; an
   * unfinished one is emptied and written again. Returns how many objects
   * this backup stored (chunks + the metadata object).
   */
  async backup(o: {
    source: string;
    sizeBytes: number;
    folder: string;
    backupId: string;
    volumeId: string;
    parent?: BackupMetadata;
    volume: BackupMetadata['volume'];
    progress?: Progress;
  }): Promise<{ objectCount: number; storedBytes: number }> {
    const dir = this.folderPath(o.folder);
    if (await this.finished(o.folder)) {
      const meta = await this.readMetadata(o.folder);
      const own = meta.chunks.filter((c) => 'object' in c && c.object.startsWith(`${o.folder}/`)).length;
      return { objectCount: own + 1, storedBytes: 0 };
    }
    const chunkBytes = o.parent?.chunk_bytes ?? this.chunkBytes;
    const total = Math.ceil(o.sizeBytes / chunkBytes);
    const chunks: ChunkEntry[] = [];
    let stored = 0;
    let storedBytes = 0;
    try {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { recursive: true });
      const fh = await fs.open(o.source, 'r');
      try {
        const buf = Buffer.alloc(chunkBytes);
        for (let i = 0; i < total; i++) {
          const want = Math.min(chunkBytes, o.sizeBytes - i * chunkBytes);
          const data = buf.subarray(0, want);
          let got = 0;
          while (got < want) {
            const { bytesRead } = await fh.read(data, got, want - got, i * chunkBytes + got);
            if (bytesRead === 0) break; // past the end of a smaller source: the rest reads as zeros
            got += bytesRead;
          }
          data.fill(0, got);
          if (isZero(data)) {
            chunks.push({ zero: true });
          } else {
            const sha256 = createHash('sha256').update(data).digest('hex');
            const before = o.parent?.chunks[i];
            if (before && 'sha256' in before && before.sha256 === sha256) {
              chunks.push(before);
            } else {
              const object = `${o.folder}/chunk-${String(i).padStart(6, '0')}`;
              const packed = await deflate(data);
              await writeAtomically(this.folderPath(object), packed);
              chunks.push({ sha256, object });
              stored += 1;
              storedBytes += packed.length;
            }
          }
          o.progress?.(i + 1, total);
          if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
        }
      } finally {
        await fh.close();
      }
      const meta: BackupMetadata = {
        format: BACKUP_FORMAT,
        backup_id: o.backupId,
        volume_id: o.volumeId,
        parent_id: o.parent?.backup_id ?? null,
        size_bytes: o.sizeBytes,
        chunk_bytes: chunkBytes,
        created_at: new Date().toISOString(),
        volume: o.volume,
        chunks,
      };
      await writeAtomically(path.join(dir, METADATA_OBJECT), Buffer.from(JSON.stringify(meta)));
      await syncDir(dir);
      return { objectCount: stored + 1, storedBytes };
    } catch (err) {
      throw fsFailure(`backup into ${dir}`, err);
    }
  }

  /**
   * Writes the backup in `folder` into `target` (`fresh`: a new empty file,
   * whose holes already read as zeros). Every chunk's SHA-256 is checked
   * before it is written; a mismatch or a missing object fails the restore
   * for good (a DriverError that is not transient), naming the chunk.
   */
  async restore(o: { folder: string; target: string; fresh: boolean; progress?: Progress }): Promise<BackupMetadata> {
    const meta = await this.readMetadata(o.folder);
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(o.target, o.fresh ? 'r+' : fsc.O_WRONLY);
      const zero = o.fresh ? undefined : Buffer.alloc(meta.chunk_bytes);
      for (let i = 0; i < meta.chunks.length; i++) {
        const c = meta.chunks[i]!;
        const offset = i * meta.chunk_bytes;
        const want = Math.min(meta.chunk_bytes, meta.size_bytes - offset);
        if ('zero' in c) {
          if (zero) await writeAll(fh, zero.subarray(0, want), offset);
        } else {
          const data = await this.chunk(o.folder, i, c, want);
          if (o.fresh) {
            // Zero blocks inside a chunk stay holes in a fresh file.
            for (let off = 0; off < data.length; off += SPARSE_BLOCK) {
              const part = data.subarray(off, Math.min(data.length, off + SPARSE_BLOCK));
              if (!part.equals(ZERO.subarray(0, part.length))) await writeAll(fh, part, offset + off);
            }
          } else {
            await writeAll(fh, data, offset);
          }
        }
        o.progress?.(i + 1, meta.chunks.length);
        if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
      }
      if (o.fresh && (await fh.stat()).size < meta.size_bytes) await fh.truncate(meta.size_bytes);
      await fh.sync();
      return meta;
    } catch (err) {
      throw fsFailure(`restore of ${o.folder}`, err);
    } finally {
      await fh?.close();
    }
  }

  /** One chunk's raw bytes, checked against its recorded SHA-256 and length. */
  private async chunk(folder: string, i: number, c: { sha256: string; object: string }, want: number): Promise<Buffer> {
    const file = this.folderPath(c.object);
    let packed: Buffer;
    try {
      packed = await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new DriverError(`backup ${folder}: chunk ${i} (${c.object}) is missing`, false);
      throw err;
    }
    let data: Buffer;
    try {
      data = await inflate(packed);
    } catch {
      throw new DriverError(`backup ${folder}: chunk ${i} (${c.object}) is corrupted: it does not decompress`, false);
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (sha256 !== c.sha256 || data.length !== want) {
      throw new DriverError(
        `backup ${folder}: chunk ${i} (${c.object}) is corrupted: SHA-256 ${sha256} of ${data.length} bytes, expected ${c.sha256} of ${want}`,
        false,
      );
    }
    return data;
  }

  /** Removes a backup's folder (its chunks and metadata object); a missing one is success. */
  async remove(folder: string): Promise<void> {
    const dir = this.folderPath(folder);
    try {
      await fs.rm(dir, { recursive: true, force: true });
      // An emptied container folder goes too (never the root).
      const parent = path.dirname(dir);
      if (parent !== this.root) await fs.rmdir(parent).catch(() => undefined);
    } catch (err) {
      throw fsFailure(`remove ${dir}`, err);
    }
  }
}

async function writeAll(fh: fs.FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Write to `<file>.part`, fsync, rename: an object that exists is whole. */
async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.part`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await writeAll(fh, data, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}
