import { VolumeDataMissing } from '../../domain/status';
import type { Tx } from '../../db/connection';
import * as consistencyDb from '../../db/consistency';
import type { DbTaskRow } from '../../db/tasks';
import { volumeStatus } from '../status/columns';
import { moveIfStill } from '../status/move';
import { MessageDetail, MessageEvent, recordMessage } from '../messages/messages';
import type { RepairAction } from './reconcile';
import type { RepairOutcome } from './run';

/** What a `backend.reconcile` worker reports: its scan, or one outcome per repair action. */
export type ReconcileResult = { scan: unknown } | { outcomes: RepairOutcome[] };

/**
 * Records a reconcile task's answer on its row and, for a repair, the
 * database side of each action the worker confirmed on disk: a missing
 * volume goes to `error` (with a user message) and a moved one gets its
 * real location, each only if the row is still what the report saw.
 */
export async function reconcileAnswered(trx: Tx, task: DbTaskRow, result: ReconcileResult): Promise<void> {
  if ('outcomes' in result) {
    const actions = (task.payload.actions ?? []) as RepairAction[];
    const confirmed: RepairOutcome[] = [];
    for (const [i, a] of actions.entries()) confirmed.push(await confirm(trx, a, result.outcomes[i]!));
    await consistencyDb.setTaskResult(trx, task.id, { outcomes: confirmed });
    return;
  }
  await consistencyDb.setTaskResult(trx, task.id, result);
}

async function confirm(trx: Tx, a: RepairAction, o: RepairOutcome): Promise<RepairOutcome> {
  if (!o.done) return o;
  if (a.kind === 'missing') {
    // Only from the status the check saw: a volume that moved since is not the one found without data.
    const t = { ...VolumeDataMissing, from: VolumeDataMissing.from.filter((s) => s === a.status) };
    const vol = await moveIfStill(trx, volumeStatus, a.volume_id, t);
    if (!vol) return { done: false, detail: 'the volume changed meanwhile' };
    await recordMessage(trx, {
      projectId: vol.project_id,
      requestId: null,
      resourceType: 'VOLUME',
      resourceId: vol.id,
      event: MessageEvent.reconcileVolume,
      detail: MessageDetail.volumeDataMissing, // the backend and location stay in the repair's report
    });
    return { done: true, detail: 'set error' };
  }
  if (a.kind === 'moved') {
    const moved = await consistencyDb.casLocation(trx, a.volume_id, a.db_location, o.detail);
    return moved ? { done: true, detail: `location set to ${o.detail}` } : { done: false, detail: 'the volume moved meanwhile' };
  }
  return o;
}
