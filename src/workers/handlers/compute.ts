import { DriverError } from '../../domain/errors';
import { payloadOf, type DbTaskRow } from '../../db/tasks';
import { volumeSwapped, type SwapPayload, type SwapResult } from '../../services/volumes/swap';
import type { Driver } from '../drivers/driver';
import type { TaskHandlerSpec } from './spec';
import { TaskKind } from '../../domain/status';

function needs<K extends keyof Driver>(driver: Driver, op: K): NonNullable<Driver[K]> {
  const fn = driver[op];
  if (!fn) throw new DriverError(`the ${driver.name} driver does not support ${String(op)}`, false);
  return (fn as (...a: unknown[]) => unknown).bind(driver) as NonNullable<Driver[K]>;
}

/**
 * The built-in compute driver's part on a storage host: a deleted server's
 * folder (`<file_storage_dir>/<server_id>/`) goes once its volumes were
 * moved out of it. Backends without server folders (ExtStorage) have
 * nothing to remove. The server row is the compute side's to update.
 *
 * `volume.swap` (services/volumes/swap.ts): the hypervisor's part of Nova's swap,
 * done on the files. Each step is idempotent, so a re-run after a crash
 * redoes the copy (the old volume is never written) and finds the files
 * already where the moves put them.
 */
export const computeHandlers: Readonly<Record<string, TaskHandlerSpec>> = {
  [TaskKind.serverRemove]: {
    run: async (task: DbTaskRow, driver) => {
      await driver.removeServer?.(task.resource_id);
    },
    commit: async () => undefined,
  } satisfies TaskHandlerSpec<void>,
  [TaskKind.volumeSwap]: {
    run: async (task, driver): Promise<SwapResult> => {
      const p = payloadOf<SwapPayload>(task);
      const old = { id: p.old_volume_id, location: p.old_location, multiattach: p.old_multiattach };
      const vol = { id: task.resource_id, location: p.new_location, multiattach: p.new_multiattach };
      await needs(driver, 'copyOnto')(vol, { kind: 'volume', volume: old });
      const target = { serverId: p.server_id, mode: p.mode };
      const attached = await needs(driver, 'attach')(vol, target);
      const oldLocation = await needs(driver, 'detach')(old, target);
      return { oldLocation, newLocation: attached.location, devicePath: attached.devicePath, driverVolumeType: attached.driverVolumeType };
    },
    commit: (trx, task, r: SwapResult) => volumeSwapped(trx, task, r),
  } satisfies TaskHandlerSpec<SwapResult>,
};
