/**
 * Generic volume groups (3.13+) and group snapshots (3.14+): their statuses
 * and moves, and which volumes may join or leave — the state machine's group
 * part (src/domain/status/ holds the rest, the `Transition` shape in transition.ts).
 */
import { CommonStatus, createAndDelete, type Transition } from './transition';
import { VolumeStatus, VolumeTransitions } from './volume';

const V = VolumeStatus;

/** Group statuses (`cinder/objects/fields.py:GroupStatus`). */
const { errorDeleting, ...upToUpdating } = CommonStatus;
/** In Cinder's order (`reset_status`'s refusal lists them): in-use before error_deleting. */
export const GroupStatus = { ...upToUpdating, inUse: 'in-use', errorDeleting } as const;
export type GroupStatus = (typeof GroupStatus)[keyof typeof GroupStatus];
export const ALL_GROUP_STATUSES: readonly GroupStatus[] = Object.values(GroupStatus);

/** Group snapshot statuses (`GroupSnapshotStatus`). */
export const GroupSnapshotStatus = CommonStatus;
export type GroupSnapshotStatus = (typeof GroupSnapshotStatus)[keyof typeof GroupSnapshotStatus];
export const ALL_GROUP_SNAPSHOT_STATUSES: readonly GroupSnapshotStatus[] = Object.values(GroupSnapshotStatus);

const G = GroupStatus;
const GS = GroupSnapshotStatus;

/**
 * A group is a grouping in the database: a new one is available at once (or
 * `error` when no backend serves its volume types); one made from a source is
 * `creating` until every member volume is made. A delete (`delete-volumes`)
 * takes any status (Cinder: "delete the group regardless of the state");
 * without it only available or error. Adding or removing volumes needs
 * available (`group/api.py:update`).
 */
export const GroupTransitions = {
  membersMade: { name: 'create-from-src-done', from: [G.creating], to: G.available },
  membersFailed: { name: 'create-from-src-failed', from: [G.creating], to: G.error },
  delete: createAndDelete(G).delete,
  deleteWithVolumes: { name: 'delete', from: ALL_GROUP_STATUSES.filter((s) => s !== G.deleting), to: G.deleting },
  deleteFailed: createAndDelete(G).deleteFailed,
  changeMembers: { name: 'update', from: [G.available], to: G.available },
} satisfies Record<string, Transition<GroupStatus>>;

/** A member snapshot's statuses that are final, for deriving its group snapshot's status. */
export const GroupSnapshotTransitions = createAndDelete(GS) satisfies Record<string, Transition<GroupSnapshotStatus>>;

/** Volume statuses a volume may leave or join a group in (`VALID_REMOVE_VOL_FROM_GROUP_STATUS`, `VALID_ADD_…`). */
export const GROUP_REMOVABLE_VOLUME: readonly VolumeStatus[] = [V.available, V.inUse, V.error, V.errorDeleting];
export const GROUP_ADDABLE_VOLUME: readonly VolumeStatus[] = [V.available, V.inUse];
/** Volume statuses a group snapshot takes a member in: cairn copies data, so the data must be there. */
export const GROUP_SNAPSHOT_SOURCE: readonly VolumeStatus[] = [V.available, V.inUse];
/** A group delete with `delete-volumes` moves every member to deleting, whatever its status (Cinder's `volumes_update`), but never an attached one. */
export const GroupMemberDelete: Transition<VolumeStatus> = {
  name: 'group-delete',
  from: VolumeTransitions.forceDelete.from,
  to: V.deleting,
};

/**
 * `reset_status` of a group or group snapshot (admin): Cinder's format
 * checkers both accept GroupSnapshotStatus.ALL (so a group's `in-use` is refused).
 */
export function groupResetTarget(status: string): GroupSnapshotStatus | undefined {
  return ALL_GROUP_SNAPSHOT_STATUSES.find((s) => s === status);
}
