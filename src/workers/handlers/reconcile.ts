import { DriverError } from '../../domain/errors';
import type { DbTaskRow } from '../../db/tasks';
import type { RepairAction } from '../../services/reconcile/reconcile';
import { reconcileAnswered, type ReconcileResult } from '../../services/reconcile/outcomes';
import type { RepairOutcome } from '../../services/reconcile/run';
import type { Driver } from '../drivers/driver';
import type { TaskHandlerSpec } from './spec';
import { TaskKind } from '../../domain/status';

/**
 * `backend.reconcile` on the worker that owns the storage (services/reconcile/run.ts):
 * without `repair`, the scan of the storage directory; with it, each action
 * checked on disk again and carried out. Nothing here deletes data: an
 * unknown file is moved to the orphans folder, a server folder is removed
 * only when empty (`removeServer` refuses otherwise).
 */
export const reconcileHandlers: Readonly<Record<string, TaskHandlerSpec<ReconcileResult>>> = {
  [TaskKind.backendReconcile]: {
    run: async (task: DbTaskRow, driver: Driver): Promise<ReconcileResult> => {
      if (!task.payload.repair) {
        if (!driver.scan)
          throw new DriverError(`the ${driver.name} driver cannot list its storage (reconcile covers file backends)`, false);
        return { scan: await driver.scan() };
      }
      const outcomes: RepairOutcome[] = [];
      for (const a of (task.payload.actions ?? []) as RepairAction[]) outcomes.push(await repairOne(driver, a));
      return { outcomes };
    },
    commit: (trx, task, result) => reconcileAnswered(trx, task, result),
  },
};

async function repairOne(driver: Driver, a: RepairAction): Promise<RepairOutcome> {
  switch (a.kind) {
    case 'orphan': {
      if (!driver.quarantine) return { done: false, detail: 'the driver cannot quarantine' };
      const to = await driver.quarantine(a.path);
      return { done: true, detail: to ? `moved to ${to}` : 'gone already' };
    }
    case 'missing': {
      const info = await driver.inspect({ id: a.volume_id, location: a.location });
      return info.exists ? { done: false, detail: `found at ${info.location}` } : { done: true, detail: 'set error' };
    }
    case 'moved': {
      const info = await driver.inspect({ id: a.volume_id, location: a.db_location });
      // `inspect` finds the file wherever it is (the file driver's `locate`); its detail is the location to record.
      return info.exists ? { done: true, detail: info.location } : { done: false, detail: 'the file is gone' };
    }
    case 'stale_server_folder': {
      if (!driver.removeServer) return { done: false, detail: 'the driver has no server folders' };
      try {
        await driver.removeServer(a.server_id);
        return { done: true, detail: 'removed' };
      } catch (err) {
        if (err instanceof DriverError && !err.transient) return { done: false, detail: 'not empty' };
        throw err;
      }
    }
  }
}
