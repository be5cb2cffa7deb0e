import type { CopySource, Driver, EveryMethod, SnapshotRef, VolumeRef } from './drivers/driver';

/**
 * A task's view of its driver: every `VolumeRef` handed to the driver gets
 * what the task payload carries about the volume (written by `enqueue` for
 * ExtStorage backends: `driver_params`, `display_name`, `volume_size`)
 * where the handler did not set it. So each handler, whoever writes it,
 * passes the provider and its parameters without knowing about them.
 * Snapshots get the parameters too (a snapshot's are its volume's), and a
 * copy's source those of the volume whose data it is (`source_driver_params`,
 * `source_volume_size`; else the task volume's).
 * Payloads without `driver_params` get the driver unchanged.
 */
export function withTaskVolume(driver: Driver, payload: Readonly<Record<string, unknown>>): Driver {
  const params = payload.driver_params;
  if (typeof params !== 'object' || params === null) return driver;
  const name = typeof payload.display_name === 'string' ? payload.display_name : undefined;
  const size = typeof payload.volume_size === 'number' ? payload.volume_size : undefined;
  const fill = (vol: VolumeRef): VolumeRef => ({
    ...vol,
    params: vol.params ?? (params as Record<string, string>),
    name: vol.name ?? name,
    sizeGib: vol.sizeGib ?? size,
  });
  const srcParams =
    typeof payload.source_driver_params === 'object' && payload.source_driver_params !== null
      ? (payload.source_driver_params as Record<string, string>)
      : (params as Record<string, string>);
  const srcSize = typeof payload.source_volume_size === 'number' ? payload.source_volume_size : undefined;
  const fillSnap = (s: SnapshotRef, p: Record<string, string>): SnapshotRef => ({ ...s, params: s.params ?? p });
  const fillSource = (src: CopySource): CopySource =>
    src.kind === 'snapshot'
      ? { ...src, snapshot: fillSnap(src.snapshot, srcParams) }
      : src.kind === 'volume'
        ? { ...src, volume: { ...src.volume, params: src.volume.params ?? srcParams, sizeGib: src.volume.sizeGib ?? srcSize } }
        : src;
  return {
    name: driver.name,
    forAttempt: driver.forAttempt && ((scope) => withTaskVolume(driver.forAttempt!(scope), payload)),
    create: (vol, sizeGib) => driver.create(fill(vol), sizeGib),
    remove: (vol) => driver.remove(fill(vol)),
    inspect: (vol) => driver.inspect(fill(vol)),
    grow: driver.grow && ((vol, n) => driver.grow!(fill(vol), n)),
    attach: driver.attach && ((vol, t) => driver.attach!(fill(vol), t)),
    detach: driver.detach && ((vol, t) => driver.detach!(fill(vol), t)),
    copyFrom: driver.copyFrom && ((vol, n, src) => driver.copyFrom!(fill(vol), n, fillSource(src))),
    snapshot: driver.snapshot && ((vol, s) => driver.snapshot!(fill(vol), s)),
    removeSnapshot: driver.removeSnapshot && ((s) => driver.removeSnapshot!(fillSnap(s, params as Record<string, string>))),
    revertToSnapshot:
      driver.revertToSnapshot && ((vol, s) => driver.revertToSnapshot!(fill(vol), fillSnap(s, params as Record<string, string>))),
    diagnose: driver.diagnose && (() => driver.diagnose!()),
    removeServer: driver.removeServer && ((id) => driver.removeServer!(id)),
    copyOnto: driver.copyOnto && ((vol, src) => driver.copyOnto!(fill(vol), fillSource(src))),
    scan: driver.scan && (() => driver.scan!()),
    quarantine: driver.quarantine && ((p) => driver.quarantine!(p)),
    readData: driver.readData && ((src, use) => driver.readData!(fillSource(src), use)),
    writeData: driver.writeData && ((vol, write) => driver.writeData!(fill(vol), write)),
  } satisfies EveryMethod;
}
