/**
 * Data copies for the file driver (snapshots, clones, volumes from
 * snapshots, reverts). Volumes are sparse files, so a copy must keep holes
 * as holes: a reflink where the filesystem offers one (btrfs, XFS: the copy
 * shares extents and costs nothing), else a chunked copy that never writes
 * an all-zero chunk into a target already truncated to full size.
 * Without reflinks, GNU cp (`--sparse=always`) copies by extents: it asks
 * the filesystem for the data (SEEK_DATA/SEEK_HOLE) and never reads a
 * hole, so a large sparse volume copies in the time its data takes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { MiB } from '../../domain/units';

/** Granularity of hole detection in the chunked copy: a run of zeros this long stays a hole. */
export const COPY_CHUNK_BYTES = 64 * 1024;
/** One read: large, since each read is a thread-pool round trip and reading a hole costs only the zeroing. */
const READ_BYTES = 8 * MiB;

/** What `FICLONE` answers where the filesystem cannot share extents (ext4, tmpfs, across filesystems). */
const NO_REFLINK = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOTTY', 'ENOSYS', 'EBADF']);

export type CopyMethod = 'reflink' | 'extents' | 'sparse';

/** How a copy may be stopped and slowed down (the attempt's signal; a fault-injection pause per read). */
export interface CopyControl {
  readonly signal?: AbortSignal;
  /** Fault injection (`CAIRN_FAULT_COPY_DELAY_MS`): pause this long after each read, in the chunked copy only. */
  readonly delayPerReadMs?: number;
}

/** Copies `src` over `dest` (created or truncated): a reflink if possible, else by extents (`cp`), else `sparseCopy`. */
export async function copyData(src: string, dest: string, ctl: CopyControl = {}): Promise<CopyMethod> {
  ctl.signal?.throwIfAborted();
  try {
    await fs.copyFile(src, dest, fsc.COPYFILE_FICLONE_FORCE);
    return 'reflink';
  } catch (err) {
    if (!NO_REFLINK.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  if (!ctl.delayPerReadMs && (await extentCopy(src, dest, ctl.signal))) return 'extents';
  await sparseCopy(src, dest, COPY_CHUNK_BYTES, ctl);
  return 'sparse';
}

/**
 * `cp --sparse=always`: GNU coreutils (9 and later) copies a sparse file
 * by its extents (SEEK_DATA/SEEK_HOLE) and writes zero runs as holes.
 * False where cp is missing or fails, so the caller's chunked copy runs
 * (and reports a failure with its errno); an abort kills cp and rejects.
 */
export async function extentCopy(src: string, dest: string, signal?: AbortSignal): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve, reject) => {
    const child = spawn('cp', ['--sparse=always', '--reflink=never', '--', src, dest], { stdio: 'ignore', signal });
    child.once('error', () => (signal?.aborted ? reject(signal.reason) : resolve(false)));
    child.once('exit', (code) => (signal?.aborted ? reject(signal.reason) : resolve(code === 0)));
  });
  if (!ok) await fs.rm(dest, { force: true });
  return ok;
}

/**
 * Chunked copy that keeps holes: the target is truncated to the source's
 * size first (one hole), then only chunks (`chunkBytes`) holding a non-zero
 * byte are written, adjacent ones in one write. Zeros the source stores as
 * data become holes: same bytes, less space. Flushed before it returns.
 */
export async function sparseCopy(src: string, dest: string, chunkBytes = COPY_CHUNK_BYTES, ctl: CopyControl = {}): Promise<void> {
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
        ctl.signal?.throwIfAborted();
        const { bytesRead } = await input.read(buf, 0, Math.min(readBytes, size - pos), pos);
        if (bytesRead === 0) break; // the source shrank under us: the rest stays a hole
        await writeNonZero(output, buf.subarray(0, bytesRead), pos, zero);
        pos += bytesRead;
        if (ctl.delayPerReadMs) await new Promise((r) => setTimeout(r, ctl.delayPerReadMs));
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

/** The temporary name a copy into `dest` is made under: `<dest>.part`, or `<dest>.part.<tag>` for one attempt's own. */
export const partName = (dest: string, tag?: string): string => (tag ? `${dest}.part.${tag}` : `${dest}.part`);

/** Every temporary file of copies into `dest` (any attempt's). */
export async function partsOf(dest: string): Promise<string[]> {
  const base = `${path.basename(dest)}.part`;
  const names = await fs.readdir(path.dirname(dest)).catch(() => [] as string[]);
  return names.filter((n) => n === base || n.startsWith(`${base}.`)).map((n) => path.join(path.dirname(dest), n));
}

export interface AtomicCopyOptions extends CopyControl {
  /** Grow the copy to at least this many bytes. */
  readonly minBytes?: number;
  /**
   * The source's size when the copy was asked for: the copy holds exactly
   * this many bytes of it (point in time: a later extend of the source is
   * not copied), before `minBytes` grows it.
   */
  readonly sourceBytes?: number;
  /** Names this attempt's temporary file (`partName(dest, tag)`): concurrent attempts never share one. */
  readonly tag?: string;
  /** Runs the final rename: the fenced step of the attempt (default: just runs it). */
  readonly commit?: <T>(step: () => Promise<T>) => Promise<T>;
}

/**
 * Copies `src` to `dest` so that `dest` is either absent/unchanged or the
 * complete copy (see `writeAtomically`), cut to `sourceBytes` and grown to
 * `minBytes` if given.
 */
export async function copyAtomically(src: string, dest: string, opts: AtomicCopyOptions = {}): Promise<CopyMethod> {
  let method: CopyMethod = 'sparse';
  await writeAtomically(
    dest,
    async (tmp) => {
      method = await copyData(src, tmp, opts);
    },
    opts,
  );
  return method;
}

/**
 * Writes `dest` so that it is either absent/unchanged or complete: `fill`
 * writes a temporary name of this attempt's own (see `partName`), restarted
 * from scratch whatever an earlier attempt left; the result is cut to
 * `sourceBytes` and grown to `minBytes` if given, flushed, then renamed over
 * `dest` by `commit`, which also removes what other (stale) attempts left. On
 * any failure or abort the temporary file is removed.
 */
export async function writeAtomically(dest: string, fill: (tmp: string) => Promise<void>, opts: AtomicCopyOptions = {}): Promise<void> {
  const tmp = partName(dest, opts.tag);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.rm(tmp, { force: true });
  try {
    await fill(tmp);
    const fh = await fs.open(tmp, 'r+');
    try {
      let { size } = await fh.stat();
      if (opts.sourceBytes !== undefined && size !== opts.sourceBytes) await fh.truncate((size = opts.sourceBytes));
      if (opts.minBytes !== undefined && size < opts.minBytes) await fh.truncate(opts.minBytes);
      await fh.sync(); // a reflink is not flushed by copyFile
    } finally {
      await fh.close();
    }
    opts.signal?.throwIfAborted();
    const commit = opts.commit ?? (<T>(step: () => Promise<T>) => step());
    await commit(async () => {
      await fs.rename(tmp, dest);
      // Whatever another attempt left (or still writes: it has lost its task) goes; the holder's copy is in place.
      for (const p of await partsOf(dest)) await fs.rm(p, { force: true });
    });
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(path.dirname(dest));
}

/** Makes a rename durable; best effort (some filesystems refuse fsync on a directory). */
async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}

/** What `copyOver` did: the source's length, and how much of it had to be written. */
export interface CopyOverResult {
  readonly bytes: number;
  readonly writtenBytes: number;
}

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
export async function copyOver(
  src: string,
  dest: string,
  opts: { maxBytes?: number; chunkBytes?: number; signal?: AbortSignal } = {},
): Promise<CopyOverResult> {
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
        opts.signal?.throwIfAborted();
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
    const differs =
      old.length === chunk.length
        ? !chunk.equals(old)
        : !chunk.equals(zero.subarray(0, chunk.length)) || !old.equals(zero.subarray(0, old.length));
    if (differs && runStart < 0) runStart = off;
    if (!differs && runStart >= 0) await flush(off);
  }
  if (runStart >= 0) await flush(data.length);
  return written;
}
