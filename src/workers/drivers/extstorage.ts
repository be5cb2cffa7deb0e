import fs from 'node:fs/promises';
import path from 'node:path';
import { DriverError } from '../../domain/errors';
import { gibToBytes } from '../../domain/units';
import type {
  AttachResult,
  AttachTarget,
  AttemptScope,
  CopySource,
  Driver,
  DriverDiagnosis,
  DriverVolumeInfo,
  SnapshotRef,
  VolumeRef,
} from './driver';
import {
  cloneSnapshot,
  extSnapshotName,
  extVolumeName,
  scriptEnv,
  parseAttach,
  PROVIDER_PARAM,
  setinfoText,
  type ExtAction,
  type ScriptInput,
} from './extstorageEnv';
import { diagnoseProviders, lookupProvider, type EsVolume, type Provider } from './extstorageProviders';
import { runScript, type RunResult } from './extstorageRun';
import { copyOver } from './fileCopy';
import { TRANSIENT_FS_CODES } from './fsErrors';

export interface ExtStorageOptions {
  /** Directories holding provider directories; the first of a name wins (Ganeti's ES_SEARCH_PATH). */
  readonly searchPath: readonly string[];
  /** Per script call; the script's process group is killed after it. */
  readonly timeoutMs: number;
  readonly killGraceMs?: number;
  /** One attempt's signal (`forAttempt`): an abort kills the running script's group and stops a copy. */
  readonly signal?: AbortSignal;
}

/**
 * Volumes kept by Ganeti ExtStorage providers (`ganeti-extstorage-interface(7)`).
 * The provider and its parameters come with each volume (`VolumeRef.params`),
 * so volumes of one backend can use different providers. The location is
 * `<provider>/<VOL_NAME>`, Ganeti's unique_id; it never changes.
 *
 * Snapshots: the interface's optional `snapshot` script makes a snapshot
 * named `VOL_SNAPSHOT_NAME`, and has no counterpart to delete one. Ganeti
 * itself treats what `snapshot` made as an ExtStorage volume of the same
 * provider — its Snapshot returns `(provider, VOL_SNAPSHOT_NAME)` as a disk's
 * unique_id, `gnt-backup export` reads that disk through `attach` and
 * removes it with the disk Remove (`attach`, `detach`, `remove`) — so cairn
 * does the same: a snapshot is the ExtStorage volume `cairn-snap-<id>`
 * (`VOL_UUID` = the snapshot id, no `VOL_CNAME`), with the parameters of
 * its volume, and the ordinary scripts read, copy and remove it.
 *
 * Copies (a volume from a snapshot, a clone, a volume from an image file,
 * a revert) use only the interface's scripts: `attach` each side (the
 * source opened shared, `VOL_OPEN_EXCLUSIVE=False`, the target exclusive,
 * where the provider has `open`), copy between the device paths `attach`
 * printed (`copyOver`: in place, writing only what differs), then `close`
 * and `detach` both. A clone copies from a temporary snapshot of the
 * source volume when the provider has `snapshot` (as Cinder's LVM driver
 * clones): a point-in-time copy that never maps or unmaps a volume a
 * server may be using on this host.
 *
 * A provider missing or invalid on this host fails the operation as
 * transient: another worker of the backend, whose copy is valid, can take
 * the task when it is offered again.
 */
export class ExtStorageDriver implements Driver {
  readonly name = 'extstorage';

  constructor(readonly opts: ExtStorageOptions) {}

  /**
   * The driver for one attempt: a script still running when the attempt
   * loses its task is killed, a copy stops. Providers write in place, so
   * there is no rename to fence; a lost attempt stops at its next step.
   */
  forAttempt(scope: AttemptScope): ExtStorageDriver {
    return new ExtStorageDriver({ ...this.opts, signal: scope.signal });
  }

  private async provider(name: string | undefined, what: string): Promise<Provider> {
    if (!name) throw new DriverError(`${what} names no ExtStorage provider (extra spec extstorage:provider)`, false);
    const found = await lookupProvider(this.opts.searchPath, name);
    if (!found.ok) throw new DriverError(`ExtStorage provider ${name} is not valid on this worker: ${found.reason}`, true);
    return found.provider;
  }

  private static withoutProvider(params: Readonly<Record<string, string>> | undefined): Record<string, string> {
    const { [PROVIDER_PARAM]: _provider, ...rest } = params ?? {};
    return rest;
  }

  private async volume(vol: VolumeRef): Promise<EsVolume> {
    const provider = await this.provider(vol.params?.[PROVIDER_PARAM] ?? vol.location?.split('/')[0], `volume ${vol.id}`);
    return {
      provider,
      params: ExtStorageDriver.withoutProvider(vol.params),
      label: `volume ${vol.id}`,
      input: { volumeId: vol.id, displayName: vol.name },
    };
  }

  /** A snapshot as the ExtStorage volume `cairn-snap-<id>` of its volume's provider, with its volume's parameters. */
  private async snapshotVolume(snap: SnapshotRef): Promise<EsVolume> {
    const provider = await this.provider(snap.params?.[PROVIDER_PARAM] ?? snap.location?.split('/')[0], `snapshot ${snap.id}`);
    return {
      provider,
      params: ExtStorageDriver.withoutProvider(snap.params),
      label: `snapshot ${snap.id}`,
      input: { volumeId: snap.id, volName: extSnapshotName(snap.id) },
    };
  }

  private location(v: EsVolume): string {
    return `${v.provider.name}/${v.input.volName ?? extVolumeName(v.input.volumeId)}`;
  }

  private run(v: EsVolume, action: ExtAction, extra: Partial<ScriptInput> = {}, args: readonly string[] = []): Promise<RunResult> {
    const script = v.provider.scripts[action];
    if (!script) throw new DriverError(`ExtStorage provider ${v.provider.name} has no ${action} script`, false);
    const env = scriptEnv(action, { ...v.input, params: v.params, ...extra });
    return runScript(script, {
      cwd: v.provider.dir,
      env,
      args,
      timeoutMs: this.opts.timeoutMs,
      killGraceMs: this.opts.killGraceMs,
      signal: this.opts.signal,
      label: `ExtStorage provider ${v.provider.name}: ${action} script`,
    });
  }

  /** `verify parameters` (the argument gnt-os-interface's verify gets), then `create` of `sizeGib`. */
  private async createVolume(v: EsVolume, sizeGib: number): Promise<void> {
    await this.run(v, 'verify', {}, ['parameters']);
    await this.run(v, 'create', { sizeGib });
  }

  /**
   * As Ganeti's Remove: `attach` first — if it fails (a normal exit), the
   * volume is taken as absent and removing it succeeds; else `detach`, then
   * `remove`. So a Ganeti provider whose remove fails on a missing volume
   * still lets a volume whose create failed be deleted.
   */
  private async removeVolume(v: EsVolume): Promise<void> {
    try {
      await this.run(v, 'attach');
    } catch (err) {
      if (err instanceof DriverError && !err.transient) return;
      throw err;
    }
    await this.run(v, 'detach');
    await this.run(v, 'remove');
  }

  /**
   * `verify parameters`, then `create`. cairn re-runs create after a crash,
   * so a provider's create must succeed when the volume already exists (the
   * example providers do).
   */
  async create(vol: VolumeRef, sizeGib: number): Promise<string> {
    const v = await this.volume(vol);
    await this.createVolume(v, sizeGib);
    return this.location(v);
  }

  /** Ganeti's Remove (see `removeVolume`); a missing volume is success. */
  async remove(vol: VolumeRef): Promise<void> {
    await this.removeVolume(await this.volume(vol));
  }

  /** The interface has no query script, so only the record says whether the volume exists. */
  async inspect(vol: VolumeRef): Promise<DriverVolumeInfo> {
    const name = vol.params?.[PROVIDER_PARAM] ?? vol.location?.split('/')[0];
    if (!name) throw new DriverError(`volume ${vol.id} names no ExtStorage provider (extra spec extstorage:provider)`, false);
    return { location: vol.location ?? `${name}/${extVolumeName(vol.id)}`, exists: Boolean(vol.location) };
  }

  /** `grow` with `VOL_SIZE` (the current `vol.sizeGib`) and `VOL_NEW_SIZE`; the same size again is a no-op. */
  async grow(vol: VolumeRef, newSizeGib: number): Promise<void> {
    if (vol.sizeGib === undefined) throw new DriverError(`grow of volume ${vol.id} needs its current size`, false);
    if (newSizeGib === vol.sizeGib) return;
    if (newSizeGib < vol.sizeGib) throw new DriverError(`volume ${vol.id} cannot shrink from ${vol.sizeGib} to ${newSizeGib} GiB`, false);
    await this.run(await this.volume(vol), 'grow', { sizeGib: vol.sizeGib, newSizeGib });
  }

  /**
   * `attach` (idempotent by the interface: an attached volume prints its
   * path again), `setinfo` with Ganeti's `originstname+<server>`, then
   * `open` if the provider has one — exclusive unless the volume is shared.
   * The first output line is the device path (empty: userspace access
   * only); further lines are `<hypervisor>:<uri>`.
   */
  async attach(vol: VolumeRef, target: AttachTarget): Promise<AttachResult> {
    const v = await this.volume(vol);
    const { devicePath, uris } = parseAttach((await this.run(v, 'attach')).stdout);
    if (!devicePath && uris.length === 0) {
      throw new DriverError(
        `ExtStorage provider ${v.provider.name}: attach printed neither a device path nor a <hypervisor>:<uri> line`,
        false,
      );
    }
    // A host reaches the volume through its device path, unless a userspace URI follows (the hypervisor opens that).
    if (devicePath && uris.length === 0) await this.deviceThere(v, devicePath);
    await this.run(v, 'setinfo', { metadata: setinfoText(`originstname+${target.serverId}`) });
    if (v.provider.scripts.open) {
      const shared = Boolean(vol.multiattach) || (target.otherServers?.length ?? 0) > 0;
      await this.run(v, 'open', { exclusive: !shared });
    }
    return { location: this.location(v), devicePath, driverVolumeType: 'local', uris };
  }

  /**
   * `close` (if present) and `detach`. The mapping is per host, so while
   * other servers still use the volume it stays mapped. Detaching a volume
   * that is not mapped is a no-op by the interface.
   */
  async detach(vol: VolumeRef, target: AttachTarget): Promise<string> {
    const v = await this.volume(vol);
    if ((target.otherServers?.length ?? 0) === 0) await this.unmap(v);
    return this.location(v);
  }

  /** `snapshot` with `VOL_SNAPSHOT_NAME` = `cairn-snap-<id>` and `VOL_SNAPSHOT_SIZE` = the volume's size. */
  async snapshot(vol: VolumeRef, snap: SnapshotRef): Promise<string> {
    const v = await this.volume(vol);
    if (!v.provider.scripts.snapshot)
      throw new DriverError(`ExtStorage provider ${v.provider.name} does not take snapshots (no snapshot script)`, false);
    if (vol.sizeGib === undefined) throw new DriverError(`snapshot of volume ${vol.id} needs its size`, false);
    await this.run(v, 'snapshot', { snapshotId: snap.id, sizeGib: vol.sizeGib });
    return `${v.provider.name}/${extSnapshotName(snap.id)}`;
  }

  /**
   * Removes the snapshot as Ganeti's export does: Remove of the ExtStorage
   * volume `cairn-snap-<id>` (`attach`, `detach`, `remove`, with its
   * volume's parameters). A missing snapshot (its attach fails) is success.
   */
  async removeSnapshot(snap: SnapshotRef): Promise<void> {
    await this.removeVolume(await this.snapshotVolume(snap));
  }

  /**
   * Creates the volume (`verify`, `create` of `sizeGib`: re-running it is
   * safe, as for `create`) and fills it from the source (see the class
   * comment): a snapshot, a file (an image), or a volume — through a
   * temporary snapshot `cairn-snap-clone-<id>` if the provider has a
   * `snapshot` script, removed afterwards (and before, if an earlier
   * attempt left it). Idempotent: a retry copies again, writing only what
   * differs. Returns the new volume's location.
   */
  async copyFrom(vol: VolumeRef, sizeGib: number, source: CopySource): Promise<string> {
    const target = await this.volume(vol);
    await this.createVolume(target, sizeGib);
    const maxBytes = gibToBytes(sizeGib);
    switch (source.kind) {
      case 'file':
        await this.mapped(target, true, (to) => this.copyData(source.path, to, maxBytes, target));
        break;
      case 'snapshot':
        await this.copyVolume(await this.snapshotVolume(source.snapshot), target, maxBytes);
        break;
      case 'volume':
        await this.cloneVolume(source.volume, vol, target, maxBytes);
        break;
    }
    return this.location(target);
  }

  /** The volume's data becomes the snapshot's, copied over it in place (same size); a re-run copies again. */
  async revertToSnapshot(vol: VolumeRef, snap: SnapshotRef): Promise<void> {
    const target = await this.volume(vol);
    // The snapshot's volume is this volume: its parameters are the snapshot's too.
    const from = await this.snapshotVolume({ ...snap, params: snap.params ?? vol.params });
    await this.copyVolume(from, target, vol.sizeGib === undefined ? undefined : gibToBytes(vol.sizeGib));
  }

  /** The volume or snapshot attached (`attach` … `detach`), read through its device path. */
  async readData<T>(source: CopySource, use: (path: string) => Promise<T>): Promise<T> {
    if (source.kind === 'file') return use(source.path);
    const v = source.kind === 'volume' ? await this.volume(source.volume) : await this.snapshotVolume(source.snapshot);
    return this.mapped(v, false, use);
  }

  /** The volume attached exclusively and written through its device (not fresh: zero blocks are written too). */
  async writeData(vol: VolumeRef, fill: (path: string, fresh: boolean) => Promise<void>): Promise<string> {
    const v = await this.volume(vol);
    await this.mapped(v, true, (dev) => fill(dev, false));
    return this.location(v);
  }

  private async cloneVolume(src: VolumeRef, vol: VolumeRef, target: EsVolume, maxBytes: number): Promise<void> {
    const from = await this.volume(src);
    if (!from.provider.scripts.snapshot) {
      // No point-in-time copy to read from: the source itself is mapped, read, and unmapped.
      await this.copyVolume(from, target, maxBytes);
      return;
    }
    const temp = cloneSnapshot(vol.id);
    const snap: EsVolume = { ...from, input: { volumeId: temp.id, volName: temp.volName }, label: `clone snapshot of volume ${src.id}` };
    await this.removeVolume(snap); // what a crashed attempt may have left
    // VOL_SNAPSHOT_SIZE is the source's size; a task that does not carry it gives the new size, never smaller.
    await this.run(from, 'snapshot', { snapshotId: `clone-${vol.id}`, sizeGib: src.sizeGib ?? maxBytes / gibToBytes(1) });
    try {
      await this.copyVolume(snap, target, maxBytes);
    } catch (err) {
      await this.removeVolume(snap).catch(() => undefined); // the copy's failure is the one to report
      throw err;
    }
    await this.removeVolume(snap);
  }

  /** Maps both (the source shared, the target exclusive), copies, unmaps both. */
  private async copyVolume(from: EsVolume, to: EsVolume, maxBytes: number | undefined): Promise<void> {
    await this.mapped(from, false, (src) => this.mapped(to, true, (dest) => this.copyData(src, dest, maxBytes, to)));
  }

  /**
   * `attach` (the device path must be an absolute path: cairn copies
   * through it) and `open` if the provider has it; runs `use`; then
   * `close` and `detach` — also when `use` failed, whose error is the one
   * reported.
   */
  private async mapped<T>(v: EsVolume, exclusive: boolean, use: (devicePath: string) => Promise<T>): Promise<T> {
    const { devicePath } = parseAttach((await this.run(v, 'attach')).stdout);
    if (!path.isAbsolute(devicePath)) {
      await this.run(v, 'detach').catch(() => undefined);
      throw new DriverError(
        `ExtStorage provider ${v.provider.name}: attach of ${v.label} printed no device path ` +
          `(${devicePath ? `'${devicePath}'` : 'userspace access only'}), so cairn cannot copy its data`,
        false,
      );
    }
    await this.deviceThere(v, devicePath);
    let result: T;
    try {
      if (v.provider.scripts.open) await this.run(v, 'open', { exclusive });
      result = await use(devicePath);
    } catch (err) {
      await this.unmap(v).catch(() => undefined);
      throw err;
    }
    await this.unmap(v);
    return result;
  }

  /**
   * Ganeti's check after `attach` (`ExtStorageDevice.Attach`): the device path it printed must exist and be a block
   * device — or a regular file, which is what file-backed providers (cairn's examples) print. A provider whose
   * script exits 0 without mapping anything (e.g. one that exits with the status of its last log write) would
   * otherwise leave a volume in-use whose device_path points at nothing. Otherwise the attach is undone (`detach`)
   * and fails, finally.
   */
  private async deviceThere(v: EsVolume, devicePath: string): Promise<void> {
    let problem: string | undefined;
    if (!path.isAbsolute(devicePath)) problem = 'is not an absolute path';
    else {
      const st = await fs.stat(devicePath).then(
        (stat) => ({ stat }),
        (err: NodeJS.ErrnoException) => ({ err }),
      );
      if ('err' in st) problem = st.err.code === 'ENOENT' ? 'does not exist' : `cannot be read (${st.err.code ?? st.err.message})`;
      else if (!st.stat.isBlockDevice() && !st.stat.isFile()) problem = 'is neither a block device nor a regular file';
    }
    if (problem === undefined) return;
    await this.run(v, 'detach').catch(() => undefined);
    throw new DriverError(
      `ExtStorage provider ${v.provider.name}: attach of ${v.label} printed the device path '${devicePath}', which ${problem}`,
      false,
    );
  }

  /** `close` (if present) and `detach`. */
  private async unmap(v: EsVolume): Promise<void> {
    if (v.provider.scripts.close) await this.run(v, 'close');
    await this.run(v, 'detach');
  }

  private async copyData(src: string, dest: string, maxBytes: number | undefined, target: EsVolume): Promise<void> {
    try {
      await copyOver(src, dest, { maxBytes, signal: this.opts.signal });
    } catch (err) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason;
      if (err instanceof RangeError) throw new DriverError(`the data to copy into ${target.label} does not fit: ${err.message}`, false);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT')
        throw new DriverError(`the data to copy into ${target.label} is missing: ${e.message}`, false, e.code, 'sourceDataMissing');
      throw new DriverError(`copy of ${src} to ${dest} failed: ${e.message}`, TRANSIENT_FS_CODES.has(e.code ?? ''), e.code ?? '');
    }
  }

  diagnose(): Promise<DriverDiagnosis[]> {
    return diagnoseProviders(this.opts.searchPath);
  }
}
