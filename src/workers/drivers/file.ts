import fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { DriverError } from '../../domain/errors';
import { gibToBytes } from '../../domain/units';
import type { Driver, DriverVolumeInfo, VolumeRef } from './driver';

/** Filesystem errors worth a retry (out of space may clear; a bad path will not). */
const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'EINTR', 'EIO']);

function wrap(op: string, err: unknown): DriverError {
  const e = err as NodeJS.ErrnoException;
  return new DriverError(`${op} failed: ${e.message}`, TRANSIENT.has(e.code ?? ''), e.code ?? '');
}

/**
 * Volumes as sparse files, Ganeti's file layout: `<dir>/volume-<id>` while
 * detached. Paths are always built here and checked to stay under `dir`.
 */
export class FileDriver implements Driver {
  readonly name = 'file';

  constructor(readonly dir: string) {}

  /** The detached location of a volume. */
  topLevelPath(id: string): string {
    return this.checked(path.join(this.dir, `volume-${id}`));
  }

  private checked(p: string): string {
    const rel = path.relative(this.dir, path.resolve(p));
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new DriverError(`path ${p} is outside the storage directory ${this.dir}`, false);
    }
    return path.resolve(p);
  }

  private current(vol: VolumeRef): string {
    return vol.location ? this.checked(vol.location) : this.topLevelPath(vol.id);
  }

  async create(vol: VolumeRef, sizeGib: number): Promise<string> {
    const file = this.current(vol);
    const bytes = gibToBytes(sizeGib);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await this.checkCapacity(bytes);
      // O_EXCL as Ganeti does; an existing file means a previous attempt got here.
      const fh = await fs.open(file, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        return fs.open(file, fsc.O_WRONLY);
      });
      try {
        const { size } = await fh.stat();
        // Re-run after a crash: finish the truncate; never shrink data a user may have written.
        if (size < bytes) await fh.truncate(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return file;
    } catch (err) {
      throw wrap(`create ${file}`, err);
    }
  }

  /**
   * Sparse files are thin: the filesystem must be able to hold the whole
   * volume one day, so a volume larger than the filesystem is refused (final).
   */
  private async checkCapacity(bytes: number): Promise<void> {
    const st = await fs.statfs(this.dir);
    const total = st.blocks * st.bsize;
    if (bytes > total) {
      throw new DriverError(`a volume of ${bytes} bytes does not fit in ${this.dir} (${total} bytes in all)`, false);
    }
  }

  async remove(vol: VolumeRef): Promise<void> {
    const file = this.current(vol);
    try {
      await fs.rm(file, { force: true });
    } catch (err) {
      throw wrap(`remove ${file}`, err);
    }
  }

  async inspect(vol: VolumeRef): Promise<DriverVolumeInfo> {
    const file = this.current(vol);
    try {
      const st = await fs.stat(file);
      return { location: file, exists: true, sizeBytes: st.size, allocatedBytes: st.blocks * 512 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { location: file, exists: false };
      throw wrap(`inspect ${file}`, err);
    }
  }
}
