import type { Driver } from './driver';

/**
 * Fault injection for crash tests: the wrapped driver finishes its work,
 * then waits `ms` before reporting — the window in which a killed worker
 * leaves done storage work with no recorded outcome. Enabled only by
 * `CAIRN_FAULT_DRIVER_DELAY_MS`.
 */
export function delayedDriver(inner: Driver, ms: number): Driver {
  const later = async <T>(p: Promise<T>): Promise<T> => {
    const v = await p;
    await new Promise((r) => setTimeout(r, ms));
    return v;
  };
  return {
    name: inner.name,
    create: (vol, size) => later(inner.create(vol, size)),
    remove: (vol) => later(inner.remove(vol)),
    inspect: (vol) => inner.inspect(vol),
  };
}
