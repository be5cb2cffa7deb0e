import type { ImageService } from '../images/model';
import type { BackupEnv } from './backup/handlers';

/** What task handlers may need beyond their driver: the image service and where to put downloads. */
export interface WorkerEnv {
  readonly images?: ImageService;
  /** A folder on the backend's storage for image downloads (an external Glance's data). */
  readonly scratchDir?: string;
  /** The backup service's store and every backend's driver (`cairn backup-worker`). */
  readonly backups?: BackupEnv;
}
