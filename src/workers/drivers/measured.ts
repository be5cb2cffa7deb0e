import { performance } from 'node:perf_hooks';
import type { Metrics } from '../../metrics';
import type { Driver, EveryMethod } from './driver';

/**
 * The driver with its operations timed and failures counted per backend
 * (`cairn_driver_operation_duration_seconds`, `cairn_driver_operation_failures_total`).
 */
export function measuredDriver(inner: Driver, backend: string, metrics: Metrics): Driver {
  const timed = <A extends unknown[], R>(operation: string, fn: ((...args: A) => Promise<R>) | undefined) => {
    if (!fn) return undefined;
    const hist = metrics.driverDuration.labels({ backend, operation });
    const failures = metrics.driverFailures.labels({ backend, operation });
    return async (...args: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await fn.apply(inner, args);
      } catch (err) {
        failures.inc();
        throw err;
      } finally {
        hist.observe((performance.now() - t0) / 1000);
      }
    };
  };
  return {
    name: inner.name,
    // Each attempt's driver is measured as the driver itself is.
    forAttempt: inner.forAttempt && ((scope) => measuredDriver(inner.forAttempt!(scope), backend, metrics)),
    create: timed('create', inner.create)!,
    remove: timed('remove', inner.remove)!,
    inspect: timed('inspect', inner.inspect)!,
    grow: timed('grow', inner.grow),
    attach: timed('attach', inner.attach),
    detach: timed('detach', inner.detach),
    copyFrom: timed('copyFrom', inner.copyFrom),
    snapshot: timed('snapshot', inner.snapshot),
    removeSnapshot: timed('removeSnapshot', inner.removeSnapshot),
    revertToSnapshot: timed('revertToSnapshot', inner.revertToSnapshot),
    diagnose: timed('diagnose', inner.diagnose),
    removeServer: timed('removeServer', inner.removeServer),
    copyOnto: timed('copyOnto', inner.copyOnto),
    scan: timed('scan', inner.scan),
    quarantine: timed('quarantine', inner.quarantine),
    readData:
      inner.readData &&
      (<T>(src: Parameters<NonNullable<Driver['readData']>>[0], use: (path: string) => Promise<T>) =>
        timed('readData', inner.readData!.bind(inner)<T>)!(src, use)),
    writeData: timed('writeData', inner.writeData),
  } satisfies EveryMethod;
}
