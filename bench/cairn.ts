import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The built CLI, next to this file's build output (dist/bench → dist/src/cli). */
export const CAIRN_CLI = path.join(__dirname, '..', 'src', 'cli', 'cairn.js');

/**
 * The node options `bin/cairn` (and so `npm start`) runs cairn with, from its
 * `#!/usr/bin/env -S node …` line: the benchmark measures cairn as launched.
 */
export function launcherNodeFlags(bin = path.join(__dirname, '..', '..', 'bin', 'cairn')): string[] {
  const first = fs.readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/) : [];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The processes this run started, so cleanup (even on exit) can find them all. */
export const children = new Set<CairnProcess>();

/** A cairn child process (`node dist/src/cli/cairn.js <role>`), its output kept for diagnosis. */
export class CairnProcess {
  readonly child: ChildProcess;
  private output = '';
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  /** `script`: another program than cairn's CLI (the bare servers), then without bin/cairn's node options. */
  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
    nodeArgs: string[] = [],
    script?: string,
  ) {
    const flags = script ? nodeArgs : [...launcherNodeFlags(), ...nodeArgs];
    this.child = spawn(process.execPath, [...flags, script ?? CAIRN_CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-16_384);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        children.delete(this);
        resolve(this.exitCode);
      }),
    );
    children.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines the process printed (logs at LOG_LEVEL=warn, crashes). */
  tail(): string {
    return this.output.trim().split('\n').slice(-20).join('\n');
  }

  /** Throws with the process's output if it has exited. */
  assertAlive(): void {
    if (!this.alive) throw new Error(`${this.name} exited with ${this.exitCode}:\n${this.tail()}`);
  }

  /** SIGTERM (cairn stops cleanly), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.alive) this.child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Last resort for process exit: no waiting. */
  killNow(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

/** Polls `GET /` (the versions document, 300) until the API answers, or the process dies, or time runs out. */
export async function waitForHttp(proc: CairnProcess, origin: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    proc.assertAlive();
    const ok = await fetch(`${origin}/`).then(
      (r) => r.status === 300,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} did not answer on ${origin} in ${timeoutMs} ms:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
