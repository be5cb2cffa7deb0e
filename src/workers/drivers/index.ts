import type { BackendConfig } from '../../config';
import type { Driver } from './driver';
import { FileDriver } from './file';

export function driverFor(backend: BackendConfig): Driver {
  switch (backend.driver) {
    case 'file': return new FileDriver(backend.fileStorageDir);
  }
}
