import type { Logger } from 'pino';
import { DriverError } from '../../domain/errors';
import { gibToBytes } from '../../domain/units';
import type { DbTaskRow } from '../../db/tasks';
import * as outcomes from '../../services/backups/outcomes';
import type { CopySource, Driver } from '../drivers/driver';
import type { TaskHandlerSpec } from './spec';
import { withTaskVolume } from '../taskVolume';
import type { BackupEnv, WorkerEnv } from '../workerEnv';
import type { ChunkedBackupStore, Progress } from '../backup/chunkedStore';
import { TaskKind } from '../../domain/status';

function backupEnv(env: WorkerEnv): BackupEnv {
  if (!env.backups) throw new DriverError('this worker is not a backup service', false);
  return env.backups;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The task volume's backend driver, given the task's ExtStorage parameters (taskVolume.ts). */
function volumeDriver(task: DbTaskRow, b: BackupEnv): Driver {
  const backend = String(task.payload.volume_backend);
  const driver = b.driverFor(backend);
  if (!driver) throw new DriverError(`this backup service has no backend ${backend}`, false);
  return withTaskVolume(driver, task.payload);
}

function need<F>(fn: F | undefined, driver: Driver, op: string): F {
  if (!fn) throw new DriverError(`the ${driver.name} driver cannot ${op}`, false);
  return fn;
}

/** Logs every tenth of the work (and the end), so a long backup or restore shows where it is. */
function progressLog(log: Logger, task: DbTaskRow, what: string): Progress {
  let shown = -1;
  return (done, total) => {
    const tenth = Math.floor((done * 10) / Math.max(1, total));
    if (tenth === shown) return;
    shown = tenth;
    log.info(
      { task: task.id, backup: task.resource_id, done, total, percent: Math.floor((done * 100) / Math.max(1, total)) },
      `${what} progress`,
    );
  };
}

/** Backup tasks, run by the backup service (`cairn backup-worker`); each idempotent on its task. */
export const backupHandlers: Readonly<Record<string, TaskHandlerSpec>> = {
  [TaskKind.backupCreate]: {
    run: async (task, _driver, env) => {
      const b = backupEnv(env);
      const driver = volumeDriver(task, b);
      const p = task.payload;
      const source: CopySource = p.snapshot_id
        ? { kind: 'snapshot', snapshot: { id: String(p.snapshot_id), location: str(p.snapshot_location) } }
        : { kind: 'volume', volume: { id: String(p.volume_id), location: str(p.provider_location), multiattach: Boolean(p.multiattach) } };
      const parent = p.parent_folder ? await b.store.readMetadata(String(p.parent_folder)) : undefined;
      const read = need(driver.readData?.bind(driver), driver, 'read volume data for a backup');
      const r = await read(source, (path) =>
        b.store.backup({
          source: path,
          sizeBytes: gibToBytes(Number(p.volume_size)),
          folder: String(p.folder),
          backupId: task.resource_id,
          volumeId: String(p.volume_id),
          parent,
          volume: {
            bootable: Boolean(p.volume_bootable),
            image_metadata: (p.volume_image_metadata as Record<string, string> | null) ?? null,
            metadata: (p.volume_metadata as Record<string, string> | undefined) ?? {},
          },
          progress: progressLog(b.log, task, 'backup'),
        }),
      );
      b.log.info(
        { task: task.id, backup: task.resource_id, objects: r.objectCount, storedBytes: r.storedBytes, incremental: Boolean(parent) },
        'backup written',
      );
      return { objectCount: r.objectCount } satisfies outcomes.BackupWritten;
    },
    commit: (trx, task, r: outcomes.BackupWritten) => outcomes.backupCreated(trx, task, r),
  } satisfies TaskHandlerSpec<outcomes.BackupWritten>,

  [TaskKind.backupRestore]: {
    run: async (task, _driver, env) => {
      const b = backupEnv(env);
      const driver = volumeDriver(task, b);
      const p = task.payload;
      const volumeId = String(p.volume_id);
      // A volume made for the restore is created here first (idempotent: a re-run finds it).
      const location = p.new_volume ? await driver.create({ id: volumeId }, Number(p.volume_size)) : str(p.provider_location);
      const write = need(driver.writeData?.bind(driver), driver, 'write volume data for a restore');
      let meta: Awaited<ReturnType<ChunkedBackupStore['restore']>> | undefined;
      const where = await write({ id: volumeId, location }, async (path, fresh) => {
        meta = await b.store.restore({ folder: String(p.folder), target: path, fresh, progress: progressLog(b.log, task, 'restore') });
      });
      b.log.info({ task: task.id, backup: task.resource_id, volume: volumeId }, 'backup restored');
      return {
        location: where,
        bootable: meta?.volume.bootable,
        imageMetadata: meta?.volume.image_metadata ?? null,
        metadata: meta?.volume.metadata ?? {},
      } satisfies outcomes.BackupRestored;
    },
    commit: (trx, task, r: outcomes.BackupRestored) => outcomes.backupRestored(trx, task, r),
  } satisfies TaskHandlerSpec<outcomes.BackupRestored>,

  [TaskKind.backupDelete]: {
    // An imported record's original (or the other way round) still names the folder: the data stays for it.
    run: async (task, _driver, env) => {
      if (task.payload.keep_data || !task.payload.folder) return;
      await backupEnv(env).store.remove(String(task.payload.folder));
    },
    commit: (trx, task) => outcomes.backupRemoved(trx, task.resource_id),
  } satisfies TaskHandlerSpec<void>,

  [TaskKind.backupImport]: {
    // The record is usable once its metadata object is there (Cinder's driver `import_record` checks the same).
    run: async (task, _driver, env) => {
      const folder = String(task.payload.folder);
      const meta = await backupEnv(env).store.readMetadata(folder);
      return { objectCount: meta.chunks.filter((c) => 'object' in c && c.object.startsWith(`${folder}/`)).length + 1 };
    },
    commit: (trx, task, r: outcomes.BackupWritten) => outcomes.backupImported(trx, task.resource_id, r),
  } satisfies TaskHandlerSpec<outcomes.BackupWritten>,
};
