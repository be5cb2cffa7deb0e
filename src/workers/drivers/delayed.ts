import type { Driver, EveryMethod } from './driver';

/**
 * Fault injection for crash tests: the wrapped driver finishes its work,
 * then waits `ms` before reporting — the window in which a killed worker
 * leaves done storage work with no recorded outcome. Enabled only by
 * `CAIRN_FAULT_DRIVER_DELAY_MS`. Reads (inspect, diagnose) are not delayed.
 */
export function delayedDriver(inner: Driver, ms: number): Driver {
  const later = <A extends unknown[], R>(fn: ((...args: A) => Promise<R>) | undefined) =>
    fn &&
    (async (...args: A): Promise<R> => {
      const v = await fn.apply(inner, args);
      await new Promise((r) => setTimeout(r, ms));
      return v;
    });
  return {
    name: inner.name,
    forAttempt: inner.forAttempt && ((scope) => delayedDriver(inner.forAttempt!(scope), ms)),
    create: later(inner.create)!,
    remove: later(inner.remove)!,
    inspect: (vol) => inner.inspect(vol),
    grow: later(inner.grow),
    attach: later(inner.attach),
    detach: later(inner.detach),
    copyFrom: later(inner.copyFrom),
    snapshot: later(inner.snapshot),
    removeSnapshot: later(inner.removeSnapshot),
    revertToSnapshot: later(inner.revertToSnapshot),
    diagnose: inner.diagnose && (() => inner.diagnose!()),
    removeServer: later(inner.removeServer),
    copyOnto: later(inner.copyOnto),
    scan: inner.scan && (() => inner.scan!()),
    quarantine: later(inner.quarantine),
    // The backup service pauses per chunk itself (CAIRN_FAULT_DRIVER_DELAY_MS), so a kill lands mid-transfer.
    readData: inner.readData && ((src, use) => inner.readData!(src, use)),
    writeData: inner.writeData && ((vol, fill) => inner.writeData!(vol, fill)),
  } satisfies EveryMethod;
}
