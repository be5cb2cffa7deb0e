/**
 * Polling for the suites that drive cairn from outside (integration, compat),
 * where a call may fail while a process is still starting.
 */

/** Thrown from a `poll` callback to stop at once: the awaited state can no longer come (e.g. status `error`). */
export class PollAbort extends Error {}

export interface PollOptions {
  /** 20 s if not given. */
  timeoutMs?: number;
  /** 50 ms if not given. */
  intervalMs?: number;
  /** Appended to the error on timeout or abort, e.g. a child's output. */
  diag?: () => string;
}

/**
 * Polls `fn` until it returns something truthy; other errors count as "not yet"
 * (a process still starting), a PollAbort ends the wait at once. With `diag`,
 * the timeout or abort error carries `diag()`.
 */
export async function poll<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: PollOptions = {},
): Promise<T> {
  const withDiag = (message: string) => `${message}${opts.diag ? `\n${opts.diag()}` : ''}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err instanceof PollAbort) throw opts.diag ? new Error(withDiag(err.message)) : err;
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(withDiag(`timed out waiting for ${what}${why}`));
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
