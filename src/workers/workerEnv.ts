import type { ImageService } from '../images/model';

/** What task handlers may need beyond their driver: the image service and where to put downloads. */
export interface WorkerEnv {
  readonly images?: ImageService;
  /** A folder on the backend's storage for image downloads (an external Glance's data). */
  readonly scratchDir?: string;
}
