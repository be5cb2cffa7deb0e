import type { ImageService } from '../domain/image';
import type { Logger } from 'pino';
import type { ChunkedBackupStore } from './backup/chunkedStore';
import type { Driver } from './drivers/driver';

/** What task handlers may need beyond their driver: the image service and where to put downloads. */
export interface WorkerEnv {
  readonly images?: ImageService;
  /** A folder on the backend's storage for image downloads (an external Glance's data). */
  readonly scratchDir?: string;
  /** The backup service's store and every backend's driver (`cairn backup-worker`). */
  readonly backups?: BackupEnv;
}

/** What the backup service's handlers need: the store, every backend's driver (to reach volumes), a log for progress. */
export interface BackupEnv {
  readonly store: ChunkedBackupStore;
  driverFor(backend: string): Driver | undefined;
  readonly log: Logger;
}
