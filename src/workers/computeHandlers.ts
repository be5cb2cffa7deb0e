import type { DbTaskRow } from '../db/tasks';
import { TaskKind } from '../services/taskOutbox';
import type { TaskHandlerSpec } from './handlers';

/**
 * The built-in compute driver's part on a storage host: a deleted server's
 * folder (`<file_storage_dir>/<server_id>/`) goes once its volumes were
 * moved out of it. Backends without server folders (ExtStorage) have
 * nothing to remove. The server row is the compute side's to update.
 */
export const computeHandlers: Readonly<Record<string, TaskHandlerSpec<void>>> = {
  [TaskKind.serverRemove]: {
    run: async (task: DbTaskRow, driver) => { await driver.removeServer?.(task.resource_id); },
    commit: async () => undefined,
  },
};
