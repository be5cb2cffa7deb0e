import { DriverError } from '../../domain/errors';
import type {
  AttachResult, AttachTarget, Driver, DriverDiagnosis, DriverVolumeInfo, SnapshotRef, VolumeRef,
} from './driver';
import { extSnapshotName, extVolumeName, scriptEnv, setinfoText, type ExtAction, type ScriptInput } from './extstorageEnv';
import { diagnoseProviders, lookupProvider, type Provider } from './extstorageProviders';
import { runScript, type RunResult } from './extstorageRun';

export interface ExtStorageOptions {
  /** Directories holding provider directories; the first of a name wins (Ganeti's ES_SEARCH_PATH). */
  readonly searchPath: readonly string[];
  /** Per script call; the script's process group is killed after it. */
  readonly timeoutMs: number;
  readonly killGraceMs?: number;
}

/** `VolumeRef.params` key naming the provider (extra spec `extstorage:provider`); every other key is an ExtStorage parameter. */
export const PROVIDER_PARAM = 'provider';

/**
 * Volumes kept by Ganeti ExtStorage providers (`ganeti-extstorage-interface(7)`).
 * The provider and its parameters come with each volume (`VolumeRef.params`),
 * so volumes of one backend can use different providers. The location is
 * `<provider>/<VOL_NAME>`, Ganeti's unique_id; it never changes.
 *
 * A provider missing or invalid on this host fails the operation as
 * transient: another worker of the backend, whose copy is valid, can take
 * the task when it is offered again.
 */
export class ExtStorageDriver implements Driver {
  readonly name = 'extstorage';

  constructor(readonly opts: ExtStorageOptions) {}

  private providerName(vol: VolumeRef): string {
    const name = vol.params?.[PROVIDER_PARAM] ?? vol.location?.split('/')[0];
    if (!name) throw new DriverError(`volume ${vol.id} names no ExtStorage provider (extra spec extstorage:provider)`, false);
    return name;
  }

  private async resolve(vol: VolumeRef): Promise<{ provider: Provider; params: Record<string, string> }> {
    const name = this.providerName(vol);
    const found = await lookupProvider(this.opts.searchPath, name);
    if (!found.ok) throw new DriverError(`ExtStorage provider ${name} is not valid on this worker: ${found.reason}`, true);
    const { [PROVIDER_PARAM]: _provider, ...params } = vol.params ?? {};
    return { provider: found.provider, params };
  }

  private location(provider: Provider, vol: VolumeRef): string {
    return `${provider.name}/${extVolumeName(vol.id)}`;
  }

  private run(provider: Provider, action: ExtAction, vol: VolumeRef, params: Record<string, string>,
    extra: Partial<ScriptInput> = {}, args: readonly string[] = []): Promise<RunResult> {
    const script = provider.scripts[action];
    if (!script) throw new DriverError(`ExtStorage provider ${provider.name} has no ${action} script`, false);
    const env = scriptEnv(action, { volumeId: vol.id, displayName: vol.name, params, ...extra });
    return runScript(script, {
      cwd: provider.dir, env, args, timeoutMs: this.opts.timeoutMs, killGraceMs: this.opts.killGraceMs,
      label: `ExtStorage provider ${provider.name}: ${action} script`,
    });
  }

  /**
   * `verify parameters` (the argument gnt-os-interface's verify gets), then
   * `create`. cairn re-runs create after a crash, so a provider's create
   * must succeed when the volume already exists (the example providers do).
   */
  async create(vol: VolumeRef, sizeGib: number): Promise<string> {
    const { provider, params } = await this.resolve(vol);
    await this.run(provider, 'verify', vol, params, {}, ['parameters']);
    await this.run(provider, 'create', vol, params, { sizeGib });
    return this.location(provider, vol);
  }

  /**
   * As Ganeti's Remove: `attach` first — if it fails (a normal exit), the
   * volume is taken as absent and removing it succeeds; else `detach`, then
   * `remove`. So a Ganeti provider whose remove fails on a missing volume
   * still lets a volume whose create failed be deleted.
   */
  async remove(vol: VolumeRef): Promise<void> {
    const { provider, params } = await this.resolve(vol);
    try {
      await this.run(provider, 'attach', vol, params);
    } catch (err) {
      if (err instanceof DriverError && !err.transient) return;
      throw err;
    }
    await this.run(provider, 'detach', vol, params);
    await this.run(provider, 'remove', vol, params);
  }

  /** The interface has no query script, so only the record says whether the volume exists. */
  async inspect(vol: VolumeRef): Promise<DriverVolumeInfo> {
    const name = this.providerName(vol);
    return { location: vol.location ?? `${name}/${extVolumeName(vol.id)}`, exists: Boolean(vol.location) };
  }

  /** `grow` with `VOL_SIZE` (the current `vol.sizeGib`) and `VOL_NEW_SIZE`; the same size again is a no-op. */
  async grow(vol: VolumeRef, newSizeGib: number): Promise<void> {
    if (vol.sizeGib === undefined) throw new DriverError(`grow of volume ${vol.id} needs its current size`, false);
    if (newSizeGib === vol.sizeGib) return;
    if (newSizeGib < vol.sizeGib) throw new DriverError(`volume ${vol.id} cannot shrink from ${vol.sizeGib} to ${newSizeGib} GiB`, false);
    const { provider, params } = await this.resolve(vol);
    await this.run(provider, 'grow', vol, params, { sizeGib: vol.sizeGib, newSizeGib });
  }

  /**
   * `attach` (idempotent by the interface: an attached volume prints its
   * path again), `setinfo` with Ganeti's `originstname+<server>`, then
   * `open` if the provider has one — exclusive unless the volume is shared.
   * The first output line is the device path (empty: userspace access
   * only); further lines are `<hypervisor>:<uri>`.
   */
  async attach(vol: VolumeRef, target: AttachTarget): Promise<AttachResult> {
    const { provider, params } = await this.resolve(vol);
    const { stdout } = await this.run(provider, 'attach', vol, params);
    const [first = '', ...rest] = stdout.replace(/\r/g, '').split('\n');
    const devicePath = first.trim();
    const uris = rest.map((l) => l.trim()).filter(Boolean);
    if (!devicePath && uris.length === 0) {
      throw new DriverError(`ExtStorage provider ${provider.name}: attach printed neither a device path nor a <hypervisor>:<uri> line`, false);
    }
    await this.run(provider, 'setinfo', vol, params, { metadata: setinfoText(`originstname+${target.serverId}`) });
    if (provider.scripts.open) {
      const shared = Boolean(vol.multiattach) || (target.otherServers?.length ?? 0) > 0;
      await this.run(provider, 'open', vol, params, { exclusive: !shared });
    }
    return { location: this.location(provider, vol), devicePath, driverVolumeType: 'local', uris };
  }

  /**
   * `close` (if present) and `detach`. The mapping is per host, so while
   * other servers still use the volume it stays mapped. Detaching a volume
   * that is not mapped is a no-op by the interface.
   */
  async detach(vol: VolumeRef, target: AttachTarget): Promise<string> {
    const { provider, params } = await this.resolve(vol);
    if ((target.otherServers?.length ?? 0) === 0) {
      if (provider.scripts.close) await this.run(provider, 'close', vol, params);
      await this.run(provider, 'detach', vol, params);
    }
    return this.location(provider, vol);
  }

  /** `snapshot` with `VOL_SNAPSHOT_NAME` = `cairn-snap-<id>` and `VOL_SNAPSHOT_SIZE` = the volume's size. */
  async snapshot(vol: VolumeRef, snap: SnapshotRef): Promise<string> {
    const { provider, params } = await this.resolve(vol);
    if (!provider.scripts.snapshot) throw new DriverError(`ExtStorage provider ${provider.name} does not take snapshots (no snapshot script)`, false);
    if (vol.sizeGib === undefined) throw new DriverError(`snapshot of volume ${vol.id} needs its size`, false);
    await this.run(provider, 'snapshot', vol, params, { snapshotId: snap.id, sizeGib: vol.sizeGib });
    return `${provider.name}/${extSnapshotName(snap.id)}`;
  }

  diagnose(): Promise<DriverDiagnosis[]> {
    return diagnoseProviders(this.opts.searchPath);
  }
}
