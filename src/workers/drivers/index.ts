import type { BackendConfig } from '../../config';
import type { Driver } from './driver';
import { ExtStorageDriver } from './extstorage';
import { FileDriver } from './file';

/** `faults`: fault injection for tests (`CAIRN_FAULT_COPY_DELAY_MS`). */
export function driverFor(backend: BackendConfig, faults: { copyDelayMs?: number } = {}): Driver {
  switch (backend.driver) {
    case 'file':
      return new FileDriver(backend.fileStorageDir, { copyDelayMs: faults.copyDelayMs });
    case 'extstorage': {
      const es = backend.extstorage!;
      return new ExtStorageDriver({ searchPath: es.searchPath, timeoutMs: es.timeoutSeconds * 1000 });
    }
  }
}
