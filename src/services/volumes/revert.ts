import { badRequest, conflict, notFound } from '../../domain/errors';
import { SnapshotTransitions, VolumeRevertTransitions, TaskKind } from '../../domain/status';
import * as snapshotsDb from '../../db/snapshots';
import * as volumesDb from '../../db/volumes';
import { requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { enqueue } from '../tasks/outbox';
import { scopeOf } from '../../domain/context';
import { snapshotStatus, volumeStatus } from '../status/columns';
import { moveOrRefuse } from '../status/move';

/**
 * `revert` (3.40): a volume back to its latest snapshot, in place. The
 * rules and texts are Cinder's (`api/v3/volumes.py:revert`,
 * `volume/api.py:revert_to_snapshot`): only the latest snapshot, of the
 * volume's size; the volume goes `reverting` and the snapshot `restoring`
 * until the worker's `volume.revert` task has copied the data back.
 */
export class VolumeRevertService {
  constructor(private readonly deps: ServiceDeps) {}

  async revert(ctx: RequestContext, volumeId: string, snapshotId: string | undefined): Promise<void> {
    requireWriter(ctx, 'volume:revert_to_snapshot');
    await this.deps.db.transaction(async (trx) => {
      const vol = await volumesDb.lock(trx, volumeId, scopeOf(ctx, true));
      if (!vol) throw notFound(`Volume ${volumeId} could not be found.`);
      // Locked: no snapshot is created or deleted between this choice and the moves below.
      const [latest] = await snapshotsDb.ofVolume(trx, vol.id, true);
      if (!latest) throw badRequest(`Volume ${vol.id} doesn't have any snapshots.`);
      if (snapshotId !== latest.id) {
        throw badRequest(`Specified snapshot ${snapshotId ?? 'None'} is None or not the latest one of volume ${vol.id}.`);
      }
      if (vol.size !== latest.size) {
        throw badRequest(
          `Can't revert volume ${vol.id} to its latest snapshot ${latest.id}. The volume size must be equal to the snapshot size.`,
        );
      }
      // Cinder answers a status mismatch here with 409, the exception's text in full.
      const v = VolumeRevertTransitions.begin;
      await moveOrRefuse(trx, volumeStatus, vol.id, v, () =>
        conflict(`Invalid volume: Can't revert volume ${vol.id} to snapshot ${latest.id}. Volume's status must be '${v.from.join(', ')}'.`),
      );
      const s = SnapshotTransitions.restore;
      await moveOrRefuse(trx, snapshotStatus, latest.id, s, () =>
        conflict(
          `Invalid snapshot: Can't revert volume ${vol.id} to snapshot ${latest.id}. Snapshot's status must be '${s.from.join(', ')}'.`,
        ),
      );
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.volumeRevert,
        { type: 'volume', id: vol.id, backend: vol.backend },
        {
          snapshot_id: latest.id,
          snapshot_location: latest.provider_location,
          provider_location: vol.provider_location,
        },
      );
    });
    this.deps.notifier.tasksWritten();
  }
}
