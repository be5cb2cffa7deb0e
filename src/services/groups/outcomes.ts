import { SnapshotStatus, VolumeStatus, TaskKind } from '../../domain/status';
import { GroupSnapshotStatus, GroupSnapshotTransitions, GroupStatus, GroupTransitions } from '../../domain/status/group';
import type { Tx } from '../../db/connection';
import * as groupsDb from '../../db/groups';
import * as groupSnapshotsDb from '../../db/groupSnapshots';
import type { DbTaskRow } from '../../db/tasks';
import { groupSnapshotStatus, groupStatus } from '../status/columns';
import { moveIfStill } from '../status/move';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const VOLUME_IN_FLIGHT: readonly string[] = [VolumeStatus.creating, VolumeStatus.downloading];

/** Whether settleGroupTask has anything to do for this task (a group member's or a group snapshot's). */
export function hasGroupToSettle(task: DbTaskRow): boolean {
  return Boolean(str(task.payload.group_id) || str(task.payload.group_snapshot_id));
}

/**
 * A group's or group snapshot's status follows its members' tasks: called
 * in the transaction that records each task's outcome (success or not),
 * after that outcome is written. Tasks of group operations name their group
 * (`group_id`) or group snapshot (`group_snapshot_id`) in their payload;
 * any other task has nothing to do here.
 */
export async function settleGroupTask(trx: Tx, task: DbTaskRow, failed: boolean): Promise<void> {
  const groupId = str(task.payload.group_id);
  const groupSnapshotId = str(task.payload.group_snapshot_id);
  if (groupId && task.kind === TaskKind.volumeCreate) await settleGroupCreate(trx, groupId);
  if (groupId && task.kind === TaskKind.volumeDelete) await settleGroupDelete(trx, groupId, failed);
  if (groupSnapshotId && task.kind === TaskKind.snapshotCreate) await settleGroupSnapshotCreate(trx, groupSnapshotId);
  if (groupSnapshotId && task.kind === TaskKind.snapshotDelete) await settleGroupSnapshotDelete(trx, groupSnapshotId, failed);
}

/** A group made from a source: available once every member is made, error if one failed. */
async function settleGroupCreate(trx: Tx, groupId: string): Promise<void> {
  const g = await groupsDb.lock(trx, groupId, { projectId: undefined });
  if (g?.status !== GroupStatus.creating) return;
  const members = await groupsDb.volumesOf(trx, groupId);
  if (members.some((v) => VOLUME_IN_FLIGHT.includes(v.status))) return;
  const t = members.every((v) => v.status === VolumeStatus.available) ? GroupTransitions.membersMade : GroupTransitions.membersFailed;
  await moveIfStill(trx, groupStatus, groupId, t);
}

/** A group being deleted goes with its last volume; a member that could not be removed leaves it error_deleting. */
async function settleGroupDelete(trx: Tx, groupId: string, failed: boolean): Promise<void> {
  const g = await groupsDb.lock(trx, groupId, { projectId: undefined });
  if (g?.status !== GroupStatus.deleting) return;
  if (failed) {
    const t = GroupTransitions.deleteFailed;
    await moveIfStill(trx, groupStatus, groupId, t);
  } else if ((await groupsDb.volumesOf(trx, groupId)).length === 0) {
    await groupsDb.remove(trx, groupId);
  }
}

async function settleGroupSnapshotCreate(trx: Tx, id: string): Promise<void> {
  const gs = await groupSnapshotsDb.lock(trx, id, { projectId: undefined });
  if (gs?.status !== GroupSnapshotStatus.creating) return;
  const members = await groupSnapshotsDb.members(trx, id);
  if (members.some((s) => s.status === SnapshotStatus.creating)) return;
  const t = members.every((s) => s.status === SnapshotStatus.available)
    ? GroupSnapshotTransitions.createDone
    : GroupSnapshotTransitions.createFailed;
  await moveIfStill(trx, groupSnapshotStatus, id, t);
}

async function settleGroupSnapshotDelete(trx: Tx, id: string, failed: boolean): Promise<void> {
  const gs = await groupSnapshotsDb.lock(trx, id, { projectId: undefined });
  if (gs?.status !== GroupSnapshotStatus.deleting) return;
  if (failed) {
    const t = GroupSnapshotTransitions.deleteFailed;
    await moveIfStill(trx, groupSnapshotStatus, id, t);
  } else if ((await groupSnapshotsDb.members(trx, id)).length === 0) {
    await groupSnapshotsDb.remove(trx, id);
  }
}
