import { payloadOf, type DbTaskRow } from '../../db/tasks';
import * as outcomes from '../../services/tasks/outcomes';
import { DriverError } from '../../domain/errors';
import type { AttachPayload } from '../../services/attachments/state';
import { volumeConnected, volumeDisconnected } from '../../services/attachments/state';
import type { AttachResult } from '../drivers/driver';
import { createFromSource, removeCascadedSnapshots, snapshotHandlers } from './snapshot';
import { computeHandlers } from './compute';
import { reconcileHandlers } from './reconcile';
import { backupHandlers } from './backup';
import type { TaskHandlerSpec } from './spec';
import { uploadToImage } from './image';
import { volumeUploadEnded } from '../../services/volumes/upload';
import { TaskKind } from '../../domain/status';

const location = (task: DbTaskRow) => (task.payload.provider_location as string | null | undefined) ?? null;

export const handlers: Readonly<Record<string, TaskHandlerSpec>> = {
  ...snapshotHandlers,
  ...computeHandlers,
  ...reconcileHandlers,
  ...backupHandlers,
  [TaskKind.volumeCreate]: {
    // From a snapshot, a volume or an image (`source`): copied by the driver (workers/handlers/snapshot.ts, workers/handlers/image.ts).
    run: (task, driver, env) =>
      task.payload.source ? createFromSource(task, driver, env) : driver.create({ id: task.resource_id }, Number(task.payload.size)),
    commit: (trx, task, loc: string) => outcomes.volumeCreated(trx, task.resource_id, loc),
    commitQuery: (conn, task, loc: string) => outcomes.volumeCreatedQuery(conn, task.resource_id, loc),
  } satisfies TaskHandlerSpec<string>,
  [TaskKind.volumeUploadImage]: {
    // The volume's data into the queued image (workers/handlers/image.ts); the volume goes back to available or in-use.
    run: (task, driver, env) => uploadToImage(task, driver, env),
    commit: (trx, task) => volumeUploadEnded(trx, task.resource_id),
  } satisfies TaskHandlerSpec<void>,
  [TaskKind.volumeDelete]: {
    run: async (task, driver) => {
      await removeCascadedSnapshots(task, driver); // `cascade=true`: the volume's snapshots first
      await driver.remove({ id: task.resource_id, location: location(task) });
    },
    commit: (trx, task) => outcomes.volumeRemoved(trx, task.resource_id),
  } satisfies TaskHandlerSpec<void>,
  [TaskKind.volumeExtend]: {
    run: (task, driver) =>
      supported(driver.grow?.bind(driver), 'grow')({ id: task.resource_id, location: location(task) }, Number(task.payload.new_size)),
    commit: (trx, task) => outcomes.volumeExtended(trx, task.resource_id, Number(task.payload.new_size)),
  } satisfies TaskHandlerSpec<void>,
  [TaskKind.volumeAttach]: {
    run: (task, driver) => {
      const p = payloadOf<AttachPayload>(task);
      return supported(driver.attach?.bind(driver), 'attach')(
        { id: task.resource_id, location: p.provider_location, multiattach: p.multiattach },
        { serverId: p.server_id, mode: p.mode },
      );
    },
    commit: (trx, task, r: AttachResult) => volumeConnected(trx, task.resource_id, payloadOf<AttachPayload>(task), r),
  } satisfies TaskHandlerSpec<AttachResult>,
  [TaskKind.volumeDetach]: {
    run: (task, driver) => {
      const p = payloadOf<AttachPayload>(task);
      return supported(driver.detach?.bind(driver), 'detach')(
        { id: task.resource_id, location: p.provider_location, multiattach: p.multiattach },
        { serverId: p.server_id, mode: p.mode },
      );
    },
    commit: (trx, task, location: string) =>
      volumeDisconnected(trx, task.resource_id, String(task.payload.attachment_id), location, task.payload.forced === true),
  } satisfies TaskHandlerSpec<string>,
};

function supported<F>(fn: F | undefined, op: string): F {
  if (!fn) throw new DriverError(`the driver does not support ${op}`, false);
  return fn;
}
