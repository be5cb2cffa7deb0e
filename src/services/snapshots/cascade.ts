import { invalidVolume } from '../../domain/errors';
import { SnapshotTransitions, VolumeStatus, VOLUME_DELETE_REFUSAL } from '../../domain/status';
import type { Tx } from '../../db/connection';
import * as snapshotsDb from '../../db/snapshots';
import type { DbVolumeRow } from '../../db/volumes';
import { snapshotStatus } from '../status/columns';
import { moveOrRefuse, refuseUnlessFrom } from '../status/move';

/** A snapshot a cascade delete removes, as the `volume.delete` task carries it. */
export interface CascadedSnapshot {
  id: string;
  provider_location: string | null;
}

/**
 * The snapshot side of a volume delete, in its transaction (the volume row
 * is locked, and snapshot creates lock it too). A volume with snapshots is
 * refused with Cinder's text unless `cascade`; then its snapshots must be
 * available or error (any status with `force`, as Cinder's filters) and move
 * to deleting: the volume's own delete task removes their data first, and
 * their rows go with the volume's. A volume still being copied from this one
 * or from one of its snapshots holds the delete back.
 */
export async function snapshotsForVolumeDelete(
  trx: Tx,
  vol: DbVolumeRow,
  opts: { cascade: boolean; force: boolean },
): Promise<{ snapshots?: CascadedSnapshot[] }> {
  const snaps = await snapshotsDb.ofVolume(trx, vol.id, true);
  const busy = await snapshotsDb.volumesBeingMadeFrom(trx, { snapshotIds: snaps.map((s) => s.id), volumeId: vol.id }, [
    VolumeStatus.creating,
  ]);
  if (busy.length) throw invalidVolume(`Volume ${vol.id} is the source of volume ${busy[0]}, which is still being created.`);
  if (snaps.length === 0) return {};
  const t = opts.force ? SnapshotTransitions.forceDelete : SnapshotTransitions.delete;
  const refuse = () => invalidVolume(VOLUME_DELETE_REFUSAL);
  if (!opts.cascade) throw refuse();
  // Every snapshot is checked before any moves: the refusal leaves them all as they were.
  for (const s of snaps) refuseUnlessFrom(t, s.status, refuse);
  for (const s of snaps) await moveOrRefuse(trx, snapshotStatus, s.id, t, refuse);
  return { snapshots: snaps.map((s) => ({ id: s.id, provider_location: s.provider_location })) };
}
