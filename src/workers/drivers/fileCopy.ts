/**
 * Data copies for the file driver (snapshots, clones, volumes from
 * snapshots, reverts). Volumes are sparse files, so a copy must keep holes
 * as holes: a reflink where the filesystem offers one (btrfs, XFS: the copy
 * shares extents and costs nothing), else a chunked copy that never writes
 * an all-zero chunk into a target already truncated to full size.
 */
import fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { MiB } from '../../domain/units';

/** Granularity of hole detection in the chunked copy: a run of zeros this long stays a hole. */
export const COPY_CHUNK_BYTES = 64 * 1024;
/** One read: large, since each read is a thread-pool round trip and reading a hole costs only the zeroing. */
const READ_BYTES = 8 * MiB;

/** What `FICLONE` answers where the filesystem cannot share extents (ext4, tmpfs, across filesystems). */
const NO_REFLINK = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOTTY', 'ENOSYS', 'EBADF']);

export type CopyMethod = 'reflink' | 'extents' | 'sparse';

/**
 * Copies `src` over `dest` (created or truncated): a reflink if possible, else
 * by extents (`extentCopy`), else `sparseCopy`.
 */
export async function copyData(src: string, dest: string): Promise<CopyMethod> {
  try {
    await fs.copyFile(src, dest, fsc.COPYFILE_FICLONE_FORCE);
    return 'reflink';
  } catch (err) {
    if (!NO_REFLINK.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  if (await extentCopy(src, dest)) return 'extents';
  await sparseCopy(src, dest);
  return 'sparse';
}

/**
 * GNU cp (coreutils ≥ 9) walks a sparse file's extents with SEEK_DATA/SEEK_HOLE and never reads its holes; with
 * `--sparse=always` it also leaves zero runs of the data as holes. Node has no lseek(SEEK_DATA), and reading a
 * mostly-empty volume's holes costs a second a GiB, so this is the fast path. False where no such `cp` runs
 * (another platform): the caller falls back to reading everything.
 */
let gnuCp: boolean | undefined;
export async function extentCopy(src: string, dest: string): Promise<boolean> {
  if (gnuCp === false) return false;
  await fs.stat(src); // a missing source fails with its errno (ENOENT), as the chunked copy's open would
  const ok = await new Promise<boolean | Error>((resolve) => {
    execFile('cp', ['--sparse=always', '--no-preserve=all', '--', src, dest], { timeout: 0 }, (err, _out, stderr) => {
      if (!err) return resolve(true);
      // ENOENT: no cp at all; an unrecognised option: not GNU cp. Anything else is a real copy failure.
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT' || /unrecognized option|illegal option|invalid option/i.test(stderr);
      resolve(missing ? false : Object.assign(new Error(`cp failed: ${stderr.trim() || err.message}`), { code: 'EIO' }));
    });
  });
  if (ok instanceof Error) throw ok;
  gnuCp = ok;
  if (ok) {
    const fh = await fs.open(dest, 'r+');
    try { await fh.sync(); } finally { await fh.close(); }
  }
  return ok;
}

/**
 * Chunked copy that keeps holes: the target is truncated to the source's
 * size first (one hole), then only chunks (`chunkBytes`) holding a non-zero
 * byte are written, adjacent ones in one write. Zeros the source stores as
 * data become holes: same bytes, less space. Flushed before it returns.
 */
export async function sparseCopy(src: string, dest: string, chunkBytes = COPY_CHUNK_BYTES): Promise<void> {
  const input = await fs.open(src, 'r');
  try {
    const output = await fs.open(dest, fsc.O_CREAT | fsc.O_TRUNC | fsc.O_WRONLY, 0o600);
    try {
      const { size } = await input.stat();
      await output.truncate(size);
      const readBytes = Math.max(chunkBytes, Math.floor(READ_BYTES / chunkBytes) * chunkBytes);
      const buf = Buffer.alloc(readBytes);
      const zero = Buffer.alloc(chunkBytes);
      for (let pos = 0; pos < size;) {
        const { bytesRead } = await input.read(buf, 0, Math.min(readBytes, size - pos), pos);
        if (bytesRead === 0) break; // the source shrank under us: the rest stays a hole
        await writeNonZero(output, buf.subarray(0, bytesRead), pos, zero);
        pos += bytesRead;
      }
      await output.sync();
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Writes the runs of `data` (at file offset `pos`) whose `zero.length`-sized chunks are not all zero. */
async function writeNonZero(fh: fs.FileHandle, data: Buffer, pos: number, zero: Buffer): Promise<void> {
  let runStart = -1;
  for (let off = 0; off < data.length; off += zero.length) {
    const chunk = data.subarray(off, off + zero.length);
    const isData = !chunk.equals(zero.subarray(0, chunk.length));
    if (isData && runStart < 0) runStart = off;
    if (!isData && runStart >= 0) {
      await writeAll(fh, data.subarray(runStart, off), pos + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) await writeAll(fh, data.subarray(runStart), pos + runStart);
}

async function writeAll(fh: fs.FileHandle, chunk: Buffer, pos: number): Promise<void> {
  for (let done = 0; done < chunk.length;) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, pos + done);
    done += bytesWritten;
  }
}

/** The temporary name a copy into `dest` is made under. */
export const partName = (dest: string): string => `${dest}.part`;

/**
 * Copies `src` to `dest` so that `dest` is either absent/unchanged or the
 * complete copy: the copy goes to `<dest>.part`, restarted from scratch
 * whatever an earlier (crashed) attempt left there, is grown to `minBytes`
 * if given, flushed, then renamed over `dest`. Idempotent.
 */
export async function copyAtomically(src: string, dest: string, minBytes?: number): Promise<CopyMethod> {
  const tmp = partName(dest);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.rm(tmp, { force: true });
  const method = await copyData(src, tmp);
  const fh = await fs.open(tmp, 'r+');
  try {
    const { size } = await fh.stat();
    if (minBytes !== undefined && size < minBytes) await fh.truncate(minBytes);
    await fh.sync(); // a reflink is not flushed by copyFile
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, dest);
  await syncDir(path.dirname(dest));
  return method;
}

/** Makes a rename durable; best effort (some filesystems refuse fsync on a directory). */
async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}

/** What `copyOver` did: the source's length, and how much of it had to be written. */
export interface CopyOverResult { readonly bytes: number; readonly writtenBytes: number }

/**
 * Copies `src` over `dest` in place, for targets that are devices or files
 * of a fixed size (ExtStorage device paths): `dest` must exist and is never
 * created or truncated. `src` is read to its end (a block device's stat
 * size is 0). Each chunk (`chunkBytes`) is compared with what `dest` holds
 * and written only if it differs, adjacent ones in one write: zeros never
 * fill a hole of a fresh sparse target, stale data of a reused target (a
 * revert, a retry after a crash) is overwritten, and a retry rewrites only
 * what an earlier attempt did not. A regular-file `dest` shorter than `src`
 * is extended (with a hole). Throws a RangeError, before writing past it,
 * if `src` is longer than `maxBytes`. Flushed before it returns.
 */
export async function copyOver(src: string, dest: string, opts: { maxBytes?: number; chunkBytes?: number } = {}): Promise<CopyOverResult> {
  const chunkBytes = opts.chunkBytes ?? COPY_CHUNK_BYTES;
  const input = await fs.open(src, 'r');
  try {
    const output = await fs.open(dest, fsc.O_RDWR);
    try {
      const readBytes = Math.max(chunkBytes, Math.floor(READ_BYTES / chunkBytes) * chunkBytes);
      const data = Buffer.alloc(readBytes);
      const held = Buffer.alloc(readBytes);
      const zero = Buffer.alloc(chunkBytes);
      let pos = 0;
      let written = 0;
      for (;;) {
        const { bytesRead } = await input.read(data, 0, readBytes, pos);
        if (bytesRead === 0) break;
        if (opts.maxBytes !== undefined && pos + bytesRead > opts.maxBytes) {
          throw new RangeError(`${src} holds more than ${opts.maxBytes} bytes, the size of ${dest}`);
        }
        const { bytesRead: had } = await output.read(held, 0, bytesRead, pos);
        written += await writeChanged(output, data.subarray(0, bytesRead), held.subarray(0, had), pos, zero);
        pos += bytesRead;
      }
      const st = await output.stat();
      if (st.isFile() && st.size < pos) await output.truncate(pos);
      await output.sync();
      return { bytes: pos, writtenBytes: written };
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Writes the runs of `data` (at `pos`) whose chunks differ from `held`, what `dest` holds there; returns the bytes written. */
async function writeChanged(fh: fs.FileHandle, data: Buffer, held: Buffer, pos: number, zero: Buffer): Promise<number> {
  let written = 0;
  let runStart = -1;
  const flush = async (end: number) => {
    await writeAll(fh, data.subarray(runStart, end), pos + runStart);
    written += end - runStart;
    runStart = -1;
  };
  for (let off = 0; off < data.length; off += zero.length) {
    const chunk = data.subarray(off, off + zero.length);
    const old = held.subarray(off, off + chunk.length);
    // Past the end of `dest` (a shorter file) reads as zeros, which is what it becomes when extended.
    const differs = old.length === chunk.length ? !chunk.equals(old)
      : !chunk.equals(zero.subarray(0, chunk.length)) || !old.equals(zero.subarray(0, old.length));
    if (differs && runStart < 0) runStart = off;
    if (!differs && runStart >= 0) await flush(off);
  }
  if (runStart >= 0) await flush(data.length);
  return written;
}
