import { spawn } from 'node:child_process';
import { DriverError } from '../../domain/errors';

/**
 * Running one provider script: directly (no shell), in its own process
 * group, with a clean environment given by the caller, killed at a timeout.
 *
 * Failures are classed for the task runner's retry rule:
 * - timed out → final: a hung script would hang again, and retrying it
 *   would hold the volume for attempts × the timeout before it errors;
 * - killed by a signal (OOM killer, an operator) → transient;
 * - exit code 75 (`EX_TEMPFAIL`, sysexits.h: "temporary failure … retry
 *   later") → transient: the way a script says "try again";
 * - any other non-zero exit → final: the provider refused, and re-running
 *   the same request will not change its mind;
 * - could not start it: `ENOEXEC` (no `#!` line) is final, anything else
 *   (`EAGAIN`, `EMFILE`, a provider replaced under us) transient.
 */

export const EX_TEMPFAIL = 75;
/** Lines of stderr kept for the error's detail (Ganeti keeps the last 20 of the log). */
export const STDERR_TAIL_LINES = 20;
const STDERR_TAIL_CHARS = 4000;
const MAX_STDOUT = 64 * 1024;
const MAX_STDERR = 64 * 1024;

export interface RunOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  readonly timeoutMs: number;
  /** After SIGTERM to the group at the timeout, SIGKILL follows this much later. */
  readonly killGraceMs?: number;
  /** What the error message calls this run, e.g. `ExtStorage provider p: create script`. */
  readonly label: string;
  /** Aborting kills the script's group (as the timeout does) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** The last lines of a script's stderr (or stdout if stderr is empty), for the user message. */
export function outputTail(stderr: string, stdout = ''): string {
  const text = stderr.trim() ? stderr : stdout;
  const tail = text.replace(/\s+$/, '').split('\n').slice(-STDERR_TAIL_LINES).join('\n');
  return tail.length > STDERR_TAIL_CHARS ? `…${tail.slice(-STDERR_TAIL_CHARS)}` : tail;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone already */
  }
}

/** Runs `file`; resolves with its output on exit 0, else rejects with a classed DriverError. */
export function runScript(file: string, opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timers: NodeJS.Timeout[] = [];
    // detached: setsid, so the script and everything it started form one group we can kill.
    const child = spawn(file, [...(opts.args ?? [])], {
      cwd: opts.cwd,
      env: { ...opts.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length < MAX_STDOUT) stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (stderr.length > MAX_STDERR) stderr = stderr.slice(-MAX_STDERR / 2);
    });

    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ stdout, stderr });
    };
    const onAbort = () => {
      const pid = child.pid;
      if (pid !== undefined && !exit) {
        killGroup(pid, 'SIGTERM');
        setTimeout(() => killGroup(pid, 'SIGKILL'), opts.killGraceMs ?? 5000).unref();
      }
      finish(opts.signal!.reason);
    };
    const conclude = () => {
      if (!exit) return;
      const detail = outputTail(stderr, stdout);
      if (timedOut) {
        finish(new DriverError(`${opts.label} timed out after ${opts.timeoutMs / 1000} s and was killed`, false, detail));
      } else if (exit.signal) {
        finish(new DriverError(`${opts.label} was killed by ${exit.signal}`, true, detail));
      } else if (exit.code !== 0) {
        const transient = exit.code === EX_TEMPFAIL;
        finish(new DriverError(`${opts.label} failed (exit code ${exit.code}${transient ? ', temporary' : ''})`, transient, detail));
      } else {
        finish();
      }
    };

    child.once('error', (err: NodeJS.ErrnoException) => {
      finish(new DriverError(`${opts.label} could not be started: ${err.message}`, err.code !== 'ENOEXEC', err.code ?? ''));
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // A daemon the script started may keep our pipes open: read what is buffered, then stop waiting for it.
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          conclude();
        }, 500),
      );
    });
    child.once('close', conclude);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(() => {
        if (exit) return;
        timedOut = true;
        const pid = child.pid!;
        killGroup(pid, 'SIGTERM');
        // Not cleared when the script itself ends: what it started may be ignoring SIGTERM.
        setTimeout(() => killGroup(pid, 'SIGKILL'), opts.killGraceMs ?? 5000).unref();
      }, opts.timeoutMs),
    );
  });
}
