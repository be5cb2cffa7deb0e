import fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { DriverError } from '../../domain/errors';
import { gibToBytes } from '../../domain/units';
import {
  type AttachResult,
  type AttachTarget,
  type AttemptScope,
  type CopySource,
  type Driver,
  type DriverScan,
  type DriverVolumeInfo,
  type SnapshotRef,
  type VolumeRef,
} from './driver';
import { copyAtomically, partsOf, writeAtomically } from './fileCopy';
import { createSparse } from './sparseFile';
import { scanStorage } from './fileScan';
import { exists, fsFailure } from './fsErrors';
import { filesystemBytes } from './filesystemSize';

/** The folder under a storage directory where reconcile moves what nobody knows. */
export const ORPHANS = '.orphans';

/**
 * Volumes as sparse files, Ganeti's file layout: `<dir>/volume-<id>` while
 * detached, `<dir>/<server>/volume-<id>` while attached to one server (a
 * multi-attach volume stays at the top level). Paths are always built here
 * and checked to stay under `dir`.
 */
export interface FileDriverOptions {
  /** Fault injection (`CAIRN_FAULT_COPY_DELAY_MS`): a pause after each read of a chunked copy, which it then always uses. */
  readonly copyDelayMs?: number;
}

export class FileDriver implements Driver {
  readonly name = 'file';

  constructor(
    readonly dir: string,
    readonly opts: FileDriverOptions = {},
    private readonly attempt?: AttemptScope,
  ) {}

  /** The driver for one attempt of a task: copies stop on its signal, write their own temporary file, and renames are fenced. */
  forAttempt(scope: AttemptScope): FileDriver {
    return new FileDriver(this.dir, this.opts, scope);
  }

  /** Runs a step that changes what others see (a rename, a remove, a truncate) only while the attempt holds its task. */
  private fenced<T>(step: () => Promise<T>): Promise<T> {
    if (!this.attempt) return step();
    this.attempt.signal.throwIfAborted();
    return this.attempt.fenced(step);
  }

  /** The detached location of a volume. */
  topLevelPath(id: string): string {
    return this.checked(path.join(this.dir, `volume-${id}`));
  }

  /** Where a volume lives while attached to `serverId` only. */
  serverPath(id: string, serverId: string): string {
    return this.checked(path.join(this.dir, serverId, `volume-${id}`));
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

  /**
   * Where the volume's file really is: the recorded location, else the top
   * level, else any server folder. A move whose outcome was never recorded
   * (worker killed between rename and commit, then the task failed) leaves
   * the record stale; names are unique, so the file is found anyway.
   */
  private async locate(vol: VolumeRef): Promise<string> {
    const recorded = this.current(vol);
    if (await exists(recorded)) return recorded;
    const top = this.topLevelPath(vol.id);
    if (await exists(top)) return top;
    const entries = await fs.readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const candidate = path.join(this.dir, e.name, `volume-${vol.id}`);
      if (await exists(candidate)) return candidate;
    }
    return recorded;
  }

  async create(vol: VolumeRef, sizeGib: number): Promise<string> {
    const file = this.current(vol);
    const bytes = gibToBytes(sizeGib);
    try {
      await this.checkCapacity(bytes);
      await createSparse(file, bytes);
      return file;
    } catch (err) {
      throw fsFailure(`create ${file}`, err);
    }
  }

  /**
   * Sparse files are thin: the filesystem must be able to hold the whole
   * volume one day, so a volume larger than the filesystem is refused (final).
   */
  private async checkCapacity(bytes: number): Promise<void> {
    const total = await filesystemBytes(this.dir);
    if (bytes > total) {
      throw new DriverError(`a volume of ${bytes} bytes does not fit in ${this.dir} (${total} bytes in all)`, false);
    }
  }

  async remove(vol: VolumeRef): Promise<void> {
    const file = await this.locate(vol);
    try {
      await this.fenced(() => fs.rm(file, { force: true }));
    } catch (err) {
      throw fsFailure(`remove ${file}`, err);
    }
  }

  /** Grows the file; never shrinks it (a re-run after a crash is a no-op). */
  async grow(vol: VolumeRef, newSizeGib: number): Promise<void> {
    const file = await this.locate(vol);
    const bytes = gibToBytes(newSizeGib);
    try {
      await this.checkCapacity(bytes);
      const { size } = await fs.stat(file);
      if (size < bytes) await this.fenced(() => fs.truncate(file, bytes));
    } catch (err) {
      if (err instanceof DriverError) throw err;
      throw fsFailure(`grow ${file}`, err);
    }
  }

  async attach(vol: VolumeRef, target: AttachTarget): Promise<AttachResult> {
    // Shared (multi-attach) and server-less (host) attachments keep the volume at the top level.
    const dest = vol.multiattach || !target.serverId ? this.topLevelPath(vol.id) : this.serverPath(vol.id, target.serverId);
    await this.move(await this.locate(vol), dest);
    return { location: dest, devicePath: dest, driverVolumeType: 'local' };
  }

  async detach(vol: VolumeRef): Promise<string> {
    const dest = this.topLevelPath(vol.id);
    await this.move(await this.locate(vol), dest);
    return dest;
  }

  /**
   * Ganeti's disk move on attach/detach: rename, storage first, the caller
   * records the new location after. Re-running after a crash finds the file
   * already at `to` and succeeds.
   */
  private async move(from: string, to: string): Promise<void> {
    if (from === to) return;
    try {
      await fs.mkdir(path.dirname(to), { recursive: true });
      await this.fenced(() => fs.rename(from, to));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' && (await exists(to))) return;
      throw fsFailure(`move ${from} to ${to}`, err);
    }
  }

  /**
   * Ganeti removes an instance's folder only when no disk data is left in
   * it; detached volumes were moved out, so it is empty by then (seed 000).
   */
  async removeServer(serverId: string): Promise<void> {
    const dir = this.checked(path.join(this.dir, serverId));
    if (dir === this.dir) throw new DriverError('a server id is needed to remove its folder', false);
    try {
      await fs.rmdir(dir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return;
      if (e.code === 'ENOTEMPTY' || e.code === 'EEXIST') {
        const left = await fs.readdir(dir).catch(() => []);
        throw new DriverError(`the server folder ${dir} still holds disk data: ${left.join(', ')}`, false);
      }
      throw fsFailure(`remove ${dir}`, err);
    }
  }

  // --- snapshots and copies (the copying itself: fileCopy.ts) -----------------

  /** Where a snapshot's data lives: `<dir>/snapshot-<id>`, beside the detached volumes. */
  snapshotPath(id: string): string {
    return this.checked(path.join(this.dir, `snapshot-${id}`));
  }

  private snapshotFile(snap: SnapshotRef): string {
    return snap.location ? this.checked(snap.location) : this.snapshotPath(snap.id);
  }

  /**
   * A copy of the volume's file, wherever it is now (`locate`). The copy is
   * renamed into place last, so a snapshot file that exists is complete and
   * a re-run after a crash mid-copy starts the copy again.
   */
  async snapshot(vol: VolumeRef, snap: SnapshotRef): Promise<string> {
    const dest = this.snapshotPath(snap.id);
    // Point in time: exactly the volume's size when the snapshot was asked for (`sizeGib`), even if it grew since.
    const sourceBytes = vol.sizeGib ? gibToBytes(vol.sizeGib) : undefined;
    if (!(await exists(dest))) await this.copy(`snapshot of ${vol.id}`, await this.locate(vol), dest, { sourceBytes });
    return dest;
  }

  /** Removes the snapshot's file and any unfinished copy of it; a missing one is success. */
  async removeSnapshot(snap: SnapshotRef): Promise<void> {
    const file = this.snapshotFile(snap);
    try {
      await this.fenced(async () => {
        await fs.rm(file, { force: true });
        for (const p of await partsOf(file)) await fs.rm(p, { force: true });
      });
    } catch (err) {
      throw fsFailure(`remove ${file}`, err);
    }
  }

  /**
   * A new volume holding the source's data, grown to `sizeGib`. The volume
   * file appears by the copy's final rename, so one that exists is a
   * finished copy of an earlier attempt: only its size is made sure of.
   */
  async copyFrom(vol: VolumeRef, sizeGib: number, source: CopySource): Promise<string> {
    const dest = this.current(vol);
    const bytes = gibToBytes(sizeGib);
    try {
      await this.checkCapacity(bytes);
      if (await exists(dest)) {
        if ((await fs.stat(dest)).size < bytes) await this.fenced(() => fs.truncate(dest, bytes));
        return dest;
      }
    } catch (err) {
      if (err instanceof DriverError) throw err;
      throw fsFailure(`create ${dest}`, err);
    }
    const src =
      source.kind === 'volume'
        ? await this.locate(source.volume)
        : source.kind === 'snapshot'
          ? this.snapshotFile(source.snapshot)
          : source.path;
    if (!(await exists(src)))
      throw new DriverError(`the data to copy into volume ${vol.id} is missing: ${src}`, false, '', 'sourceDataMissing');
    // A clone copies its source as it was when the clone was asked for (its recorded size then), grown to its own size.
    const sourceBytes = source.kind === 'volume' && source.volume.sizeGib ? gibToBytes(source.volume.sizeGib) : undefined;
    await this.copy(`copy ${src} to ${dest}`, src, dest, { minBytes: bytes, sourceBytes });
    return dest;
  }

  /** The volume's file becomes a copy of the snapshot's, replaced in one rename (a re-run copies again). */
  async revertToSnapshot(vol: VolumeRef, snap: SnapshotRef): Promise<void> {
    const src = this.snapshotFile(snap);
    if (!(await exists(src))) throw new DriverError(`the data of snapshot ${snap.id} is missing: ${src}`, false, '', 'sourceDataMissing');
    await this.copy(`revert of ${vol.id}`, src, await this.locate(vol));
  }

  private async copy(op: string, src: string, dest: string, sizes: { minBytes?: number; sourceBytes?: number } = {}): Promise<void> {
    try {
      await copyAtomically(src, this.checked(dest), {
        ...sizes,
        signal: this.attempt?.signal,
        tag: this.attempt?.token,
        delayPerReadMs: this.opts.copyDelayMs,
        commit: (step) => this.fenced(step),
      });
    } catch (err) {
      throw fsFailure(op, err);
    }
  }

  /**
   * Nova's swap on a file backend: the volume's file becomes a copy of the
   * source's, grown to the volume's own size, replaced in one rename where
   * it lies now (a re-run copies again; the source is never written).
   */
  async copyOnto(vol: VolumeRef, source: CopySource): Promise<void> {
    const dest = await this.locate(vol);
    const src =
      source.kind === 'volume'
        ? await this.locate(source.volume)
        : source.kind === 'snapshot'
          ? this.snapshotFile(source.snapshot)
          : source.path;
    if (!(await exists(dest))) throw new DriverError(`volume ${vol.id} has no data to overwrite: ${dest}`, false);
    if (!(await exists(src))) throw new DriverError(`the data to copy onto volume ${vol.id} is missing: ${src}`, false);
    await this.copy(`copy ${src} onto ${dest}`, src, dest, { minBytes: (await fs.stat(dest)).size });
  }

  // --- reconcile (cairn-manage reconcile) ----------------------------------------

  /** Where `quarantine` puts what nobody knows: `<dir>/.orphans/`, never scanned. */
  get orphansDir(): string {
    return path.join(this.dir, ORPHANS);
  }

  /** Every file and folder under the storage directory but the orphans folder (fileScan.ts). */
  scan(): Promise<DriverScan> {
    return scanStorage(this.dir, ORPHANS);
  }

  /**
   * Moves `p` (under the storage directory) into the orphans folder, named
   * after where it was (`<server>__volume-<id>`), a suffix added if taken.
   * Idempotent: a path already gone answers undefined.
   */
  async quarantine(p: string): Promise<string | undefined> {
    const from = this.checked(p);
    if (from === this.dir || from.startsWith(`${this.orphansDir}${path.sep}`) || from === this.orphansDir) {
      throw new DriverError(`${p} is not something to quarantine`, false);
    }
    if (!(await exists(from))) return undefined;
    const base = path.relative(this.dir, from).split(path.sep).join('__');
    await fs.mkdir(this.orphansDir, { recursive: true });
    for (let n = 0; ; n++) {
      const to = path.join(this.orphansDir, n === 0 ? base : `${base}.${n}`);
      if (await exists(to)) continue;
      try {
        await this.fenced(() => fs.rename(from, to));
        return to;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw fsFailure(`quarantine ${from}`, err);
      }
    }
  }

  /** The file itself: a volume's wherever it is now, a snapshot's copy, or a named file. */
  async readData<T>(source: CopySource, use: (path: string) => Promise<T>): Promise<T> {
    const file =
      source.kind === 'volume'
        ? await this.locate(source.volume)
        : source.kind === 'snapshot'
          ? this.snapshotFile(source.snapshot)
          : this.checked(source.path);
    if (!(await exists(file))) throw new DriverError(`the data to read is missing: ${file}`, false);
    return use(file);
  }

  /**
   * Fills a new sparse file beside the volume's and renames it over the
   * volume's (atomic: a crash leaves the old data or the new, and a re-run
   * starts over). The result is at least as large as the volume was.
   */
  async writeData(vol: VolumeRef, fill: (path: string, fresh: boolean) => Promise<void>): Promise<string> {
    const file = await this.locate(vol);
    try {
      const before = (await fs.stat(file)).size;
      // This attempt's own temporary file; only the fenced rename puts it in place (a stale attempt's never lands).
      await writeAtomically(
        file,
        async (tmp) => {
          await (await fs.open(tmp, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600)).close();
          await fill(tmp, true);
        },
        { minBytes: before, tag: this.attempt?.token, commit: (step) => this.fenced(step) },
      );
      return file;
    } catch (err) {
      throw fsFailure(`write ${file}`, err);
    }
  }

  async inspect(vol: VolumeRef): Promise<DriverVolumeInfo> {
    const file = await this.locate(vol);
    try {
      const st = await fs.stat(file);
      return { location: file, exists: true, sizeBytes: st.size, allocatedBytes: st.blocks * 512 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { location: file, exists: false };
      throw fsFailure(`inspect ${file}`, err);
    }
  }
}
