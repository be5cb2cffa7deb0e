import type { BackendConfig } from '../../config';
import type { Driver } from './driver';
import { ExtStorageDriver } from './extstorage';
import { FileDriver } from './file';

export function driverFor(backend: BackendConfig): Driver {
  switch (backend.driver) {
    case 'file': return new FileDriver(backend.fileStorageDir);
    case 'extstorage': {
      const es = backend.extstorage!;
      return new ExtStorageDriver({ searchPath: es.searchPath, timeoutMs: es.timeoutSeconds * 1000 });
    }
  }
}
