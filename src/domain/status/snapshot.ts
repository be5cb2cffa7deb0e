/** Snapshot statuses and their moves, and the volume's side of a revert. */
import { TaskKind } from './task';
import { CommonStatus, createAndDelete, type Transition } from './transition';
import { VolumeStatus } from './volume';

const V = VolumeStatus;

/** Snapshot statuses (`cinder/objects/fields.py:SnapshotStatus`). */
export const SnapshotStatus = {
  ...CommonStatus,
  unmanaging: 'unmanaging',
  backingUp: 'backing-up',
  restoring: 'restoring',
} as const;
export type SnapshotStatus = (typeof SnapshotStatus)[keyof typeof SnapshotStatus];
export const ALL_SNAPSHOT_STATUSES: readonly SnapshotStatus[] = Object.values(SnapshotStatus);

const S = SnapshotStatus;

/** Statuses a snapshot may be deleted from, and that a cascade delete of its volume accepts (`volume/api.py`). */
export const SNAPSHOT_DELETABLE: readonly SnapshotStatus[] = createAndDelete(S).delete.from;

/** Volume statuses a snapshot may be taken of: `available`, plus `in-use` with `force` (or always from 3.66). */
export const SNAPSHOT_SOURCE: readonly VolumeStatus[] = [V.available];
export const SNAPSHOT_SOURCE_IN_USE: readonly VolumeStatus[] = [V.available, V.inUse];
/** What a new volume may be made from (`flows/api/create_volume.py`: SNAPSHOT_/SRC_VOL_PROCEED_STATUS). */
export const CLONE_SOURCE: readonly VolumeStatus[] = [V.available, V.inUse];
export const SNAPSHOT_PROCEED: readonly SnapshotStatus[] = [S.available];

export const SnapshotTransitions = {
  ...createAndDelete(S),
  /** `os-force_delete` (admin) and a forced cascade: Cinder sets no status condition at all. */
  forceDelete: { name: 'force-delete', from: ALL_SNAPSHOT_STATUSES, to: S.deleting },
  /** revert (3.40): the snapshot being restored from; back to available whatever the outcome. */
  restore: { name: 'revert', from: [S.available], to: S.restoring },
  restoreDone: { name: 'revert-done', from: [S.restoring], to: S.available },
} satisfies Record<string, Transition<SnapshotStatus>>;

/**
 * `os-update_snapshot_status` (Nova's assisted snapshots, where the hypervisor
 * does the work and reports back): only a snapshot being created or deleted
 * may be moved, and only to these (`contrib/snapshot_actions.py`'s status_map).
 */
export const SNAPSHOT_STATUS_UPDATES: Readonly<Partial<Record<SnapshotStatus, readonly SnapshotStatus[]>>> = {
  [S.creating]: [S.creating, S.available, S.error],
  [S.deleting]: [S.deleting, S.errorDeleting],
};

/** The move `os-update_snapshot_status` makes once SNAPSHOT_STATUS_UPDATES allows it: from the row's own status. */
export const snapshotStatusUpdate = (from: SnapshotStatus, to: SnapshotStatus): Transition<SnapshotStatus> => ({
  name: 'update-snapshot-status',
  from: [from],
  to,
});

/** Status an exhausted snapshot task leaves its snapshot in, keyed by task kind. */
export const SNAPSHOT_FAILURE_BY_TASK: Readonly<Record<string, Transition<SnapshotStatus>>> = {
  [TaskKind.snapshotCreate]: SnapshotTransitions.createFailed,
  [TaskKind.snapshotDelete]: SnapshotTransitions.deleteFailed,
  // A cascade delete's snapshots fail with their volume's task.
  [TaskKind.volumeDelete]: SnapshotTransitions.deleteFailed,
};

/** The volume side of a revert (`volume/api.py:revert_to_snapshot`, `manager.py`: a failure leaves `error`). */
export const VolumeRevertTransitions = {
  begin: { name: 'revert', from: [V.available], to: V.reverting },
  done: { name: 'revert-done', from: [V.reverting], to: V.available },
  failed: { name: 'revert-failed', from: [V.reverting], to: V.error },
} satisfies Record<string, Transition<VolumeStatus>>;

/** `os-reset_status` on a snapshot (admin): any known status. Undefined for an unknown one. */
export function snapshotResetTarget(status: string): SnapshotStatus | undefined {
  return ALL_SNAPSHOT_STATUSES.find((s) => s === status);
}

/** A snapshot create starts at 0% and ends at 100% (Cinder's `progress`). */
export const SNAPSHOT_PROGRESS = { start: '0%', done: '100%' } as const;
