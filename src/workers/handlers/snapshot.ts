import { DriverError } from '../../domain/errors';
import type { DbTaskRow } from '../../db/tasks';
import * as outcomes from '../../services/snapshots/outcomes';
import type { CascadedSnapshot } from '../../services/snapshots/cascade';
import type { SourcePayload } from '../../services/volumes/sources';
import type { CopySource, Driver } from '../drivers/driver';
import type { TaskHandlerSpec } from './spec';
import { createFromImage } from './image';
import type { WorkerEnv } from '../workerEnv';
import { TaskKind } from '../../domain/status';

function need<F>(fn: F | undefined, op: string): F {
  if (!fn) throw new DriverError(`the driver does not support ${op}`, false);
  return fn;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Snapshot tasks and the revert of a volume to its latest snapshot; every driver call idempotent. */
export const snapshotHandlers: Readonly<Record<string, TaskHandlerSpec>> = {
  [TaskKind.snapshotCreate]: {
    run: (task, driver) =>
      need(driver.snapshot?.bind(driver), 'snapshots')(
        {
          id: String(task.payload.volume_id),
          location: str(task.payload.provider_location),
          multiattach: Boolean(task.payload.multiattach),
          // The volume's size when the snapshot was asked for: the copy is of that size (point in time).
          ...(typeof task.payload.source_size === 'number' ? { sizeGib: task.payload.source_size } : {}),
        },
        { id: task.resource_id },
      ),
    commit: (trx, task, location: string) => outcomes.snapshotCreated(trx, task.resource_id, location),
  } satisfies TaskHandlerSpec<string>,
  [TaskKind.snapshotDelete]: {
    // `os-unmanage` (unmanage_only): the backend keeps the data; only the row goes.
    run: async (task, driver) => {
      if (task.payload.unmanage_only) return;
      await need(
        driver.removeSnapshot?.bind(driver),
        'removing snapshots',
      )({ id: task.resource_id, location: str(task.payload.provider_location) });
    },
    commit: (trx, task) => outcomes.snapshotRemoved(trx, task.resource_id),
  } satisfies TaskHandlerSpec<void>,
  [TaskKind.volumeRevert]: {
    run: (task, driver) =>
      need(driver.revertToSnapshot?.bind(driver), 'reverting to a snapshot')(
        { id: task.resource_id, location: str(task.payload.provider_location) },
        { id: String(task.payload.snapshot_id), location: str(task.payload.snapshot_location) },
      ),
    commit: (trx, task) => outcomes.volumeReverted(trx, task.resource_id, String(task.payload.snapshot_id)),
  } satisfies TaskHandlerSpec<void>,
};

/** `volume.create` with a `source` (snapshot, volume or image): the driver copies the data and grows it to the new size. */
export function createFromSource(task: DbTaskRow, driver: Driver, env: WorkerEnv = {}): Promise<string> {
  const s = task.payload.source as SourcePayload;
  if (s.kind === 'image') return createFromImage(task, driver, env);
  const source: CopySource =
    s.kind === 'snapshot'
      ? { kind: 'snapshot', snapshot: { id: s.id, location: s.location } }
      : {
          kind: 'volume',
          volume: {
            id: s.id,
            location: s.location,
            multiattach: s.multiattach,
            ...(typeof s.size === 'number' ? { sizeGib: s.size } : {}),
          },
        };
  return need(driver.copyFrom?.bind(driver), 'creating a volume from a source')(
    { id: task.resource_id },
    Number(task.payload.size),
    source,
  );
}

/** A cascade `volume.delete`: the snapshots' data goes first (their rows go with the volume's). */
export async function removeCascadedSnapshots(task: DbTaskRow, driver: Driver): Promise<void> {
  const snaps = (task.payload.snapshots ?? []) as CascadedSnapshot[];
  if (snaps.length === 0) return;
  const remove = need(driver.removeSnapshot?.bind(driver), 'removing snapshots');
  for (const s of snaps) await remove({ id: s.id, location: s.provider_location });
}
