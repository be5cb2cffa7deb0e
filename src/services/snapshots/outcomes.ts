import { SNAPSHOT_FAILURE_BY_TASK, SNAPSHOT_PROGRESS, SnapshotTransitions, VolumeRevertTransitions } from '../../domain/status';
import type { Tx } from '../../db/connection';
import * as snapshotsDb from '../../db/snapshots';
import type { DbTaskRow } from '../../db/tasks';
import { MessageEvent } from '../messages/messages';
import { snapshotStatus, volumeStatus } from '../status/columns';
import { moveIfStill } from '../status/move';
import type { CascadedSnapshot } from './cascade';
import { TaskKind } from '../../domain/status';

/**
 * What snapshot tasks (and the snapshot side of volume tasks) write when
 * they finish or fail, inside the transaction that completes the task.
 */
export async function snapshotCreated(trx: Tx, snapshotId: string, location: string): Promise<void> {
  // No row moved: the snapshot was force-deleted meanwhile; its delete task removes the data.
  await moveIfStill(trx, snapshotStatus, snapshotId, SnapshotTransitions.createDone, {
    progress: SNAPSHOT_PROGRESS.done,
    provider_location: location,
  });
}

export async function snapshotRemoved(trx: Tx, snapshotId: string): Promise<void> {
  await snapshotsDb.remove(trx, snapshotId);
}

/** The volume holds the snapshot's data again: both back to available (`manager.py:revert_to_snapshot`). */
export async function volumeReverted(trx: Tx, volumeId: string, snapshotId: string): Promise<void> {
  await moveIfStill(trx, volumeStatus, volumeId, VolumeRevertTransitions.done);
  await moveIfStill(trx, snapshotStatus, snapshotId, SnapshotTransitions.restoreDone);
}

/** User messages for failed snapshot tasks (merged into the volume tasks' table by `taskFailed`). */
export const SNAPSHOT_FAILURE_EVENTS: Readonly<Record<string, MessageEvent>> = {
  [TaskKind.snapshotCreate]: MessageEvent.createSnapshot,
  [TaskKind.snapshotDelete]: MessageEvent.deleteSnapshot,
  [TaskKind.volumeRevert]: MessageEvent.revertVolume,
};

/**
 * The snapshot side of a task that will not succeed: a snapshot task's
 * snapshot goes to its error status; a cascade delete's snapshots go to
 * error_deleting with their volume; a failed revert leaves the volume in
 * `error` and the snapshot available again, as Cinder's manager does.
 */
export async function snapshotTaskFailed(trx: Tx, task: DbTaskRow): Promise<void> {
  const t = SNAPSHOT_FAILURE_BY_TASK[task.kind];
  if (task.resource_type === 'snapshot' && t) {
    await moveIfStill(trx, snapshotStatus, task.resource_id, t);
  }
  if (task.kind === TaskKind.volumeDelete && t) {
    for (const s of (task.payload.snapshots ?? []) as CascadedSnapshot[]) await moveIfStill(trx, snapshotStatus, s.id, t);
  }
  if (task.kind === TaskKind.volumeRevert) {
    await moveIfStill(trx, volumeStatus, task.resource_id, VolumeRevertTransitions.failed);
    await moveIfStill(trx, snapshotStatus, String(task.payload.snapshot_id), SnapshotTransitions.restoreDone);
  }
}
