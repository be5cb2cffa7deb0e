/**
 * Integration-suite support: a fresh PostgreSQL database and AMQP prefix per
 * suite, the BUILT `cairn` processes as children, and cleanup that leaves no
 * database, queue, temp dir or process behind. Needs `npm run build` first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { deleteTopology } from '../../src/workers/amqpTransport';
import { poll, PollAbort } from '../helpers/poll';

export const PG_ADMIN_URL = process.env.CAIRN_IT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_URL = process.env.CAIRN_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export const PROJECT = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
export const USER = '1d2c3b4a59687f6e5d4c3b2a1f0e9d8c';
export const HEADERS = { 'X-Auth-Token': `${USER}:${PROJECT}`, 'OpenStack-API-Version': 'volume 3.70' };
export const GIB = 1024 ** 3;

const ROOT = path.resolve(__dirname, '../..');
const CAIRN_JS = path.join(ROOT, 'dist/src/cli/cairn.js');
const MANAGE_JS = path.join(ROOT, 'dist/src/cli/manage.js');
/** Queues the suites use: the file backend's and the backup service's (`cinder-backup`). */
const BACKENDS = ['file', 'cinder-backup'];

export { poll, PollAbort };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Every child still alive, so a crashing test runner never leaves one behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned `cairn` process with its output kept for failure messages. */
export class CairnProcess {
  private out = '';
  readonly exited: Promise<Exit>;
  private exitInfo: Exit | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port?: number,
  ) {
    live.add(child);
    const keep = (chunk: Buffer) => {
      this.out += chunk.toString('utf8');
      if (this.out.length > 64_000) this.out = this.out.slice(-32_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  get url(): string {
    if (this.port === undefined) throw new Error(`${this.name} serves no HTTP`);
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** stdout (pino logs) and stderr, newest last. */
  output(): string {
    const status = this.exitInfo ? `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}` : 'running';
    return `--- ${this.name} (pid ${this.child.pid}, ${status}) output ---\n${this.out || '(none)'}`;
  }

  /** Sends `signal` and waits for the exit; SIGKILL if it has not exited after `graceMs`. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<Exit> {
    if (!this.running) return this.exitInfo!;
    this.child.kill(signal);
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'late') this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Throws with the output if the process has already died (used while waiting for it). */
  assertRunning(): void {
    if (!this.running) throw new Error(`${this.name} exited early\n${this.output()}`);
  }
}

export interface StartOptions {
  /** Extra or overriding environment for this process. */
  env?: Record<string, string>;
  /** Listen on this port (e.g. to restart an API where it was). */
  port?: number;
  /** Further arguments of the command (e.g. `--processes 2`). */
  args?: string[];
}

export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * One suite's world: a database `cairn_test_<random>`, AMQP prefix
 * `cairn-it-<random>`, a temp data dir and host name, and the processes
 * started in it. `cleanup()` undoes all of it.
 */
export class Suite {
  readonly procs: CairnProcess[] = [];
  readonly pool: Pool;

  private constructor(
    readonly dbName: string,
    readonly databaseUrl: string,
    readonly prefix: string,
    readonly dataDir: string,
    readonly hostname: string,
    private readonly suiteEnv: Record<string, string>,
  ) {
    this.pool = new Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on('error', () => {}); // an idle client cut off by the final DROP must not crash the runner
  }

  /** `env` applies to every process of the suite (per-process `StartOptions.env` overrides it). */
  static async create(env: Record<string, string> = {}): Promise<Suite> {
    for (const f of [CAIRN_JS, MANAGE_JS]) {
      if (!fs.existsSync(f)) throw new Error(`${path.relative(ROOT, f)} is missing: run \`npm run build\` before the integration tests`);
    }
    const tag = randomBytes(5).toString('hex');
    const dbName = `cairn_test_${tag}`;
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${dbName}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-it-'));
    return new Suite(dbName, url.toString(), `cairn-it-${tag}`, dataDir, `it-${tag}`, env);
  }

  /** Where the worker's file backend keeps its volumes. */
  get backendDir(): string {
    return path.join(this.dataDir, 'volumes', 'file');
  }

  volumeFile(id: string): string {
    return path.join(this.backendDir, `volume-${id}`);
  }

  /** The environment of a cairn process: the parent's minus anything that would configure cairn or node. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const base = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(CAIRN_|DATABASE_URL$|AMQP_URL$|PORT$|HOST$|LOG_LEVEL$|AUTH_STRATEGY$|NODE_OPTIONS$)/.test(k),
      ),
    );
    return {
      ...base,
      DATABASE_URL: this.databaseUrl,
      AMQP_URL,
      CAIRN_AMQP_PREFIX: this.prefix,
      HOST: '127.0.0.1',
      CAIRN_DATA_DIR: this.dataDir,
      CAIRN_HOSTNAME: this.hostname,
      LOG_LEVEL: 'warn',
      ...this.suiteEnv,
      ...extra,
    };
  }

  private spawn(name: string, args: string[], env: NodeJS.ProcessEnv, port?: number): CairnProcess {
    const child = spawn(process.execPath, [CAIRN_JS, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new CairnProcess(name, child, port);
    this.procs.push(p);
    return p;
  }

  /** `cairn api` (migrates the database at start), ready once `GET /` answers 300. */
  async startApi(opts: StartOptions = {}): Promise<CairnProcess> {
    const port = opts.port ?? (await freePort());
    const api = this.spawn(`cairn api :${port}`, ['api', ...(opts.args ?? [])], this.env({ PORT: String(port), ...opts.env }), port);
    await poll(
      'the API to answer GET / with 300',
      async () => {
        api.assertRunning();
        const res = await fetch(`${api.url}/`, { headers: { Connection: 'close' } }).catch(() => undefined);
        await res?.arrayBuffer();
        return res?.status === 300;
      },
      { diag: () => api.output() },
    ).catch(async (err) => {
      await api.kill('SIGKILL');
      throw err;
    });
    return api;
  }

  /**
   * `cairn worker --backend file`, ready once its `cinder-volume` service row
   * has a heartbeat from after the spawn (the first beat follows the consumer's start).
   */
  async startWorker(opts: StartOptions = {}): Promise<CairnProcess> {
    const since = new Date(Date.now() - 1000); // the same clock, but timestamps may lose sub-ms precision
    const worker = this.spawn('cairn worker --backend file', ['worker', '--backend', 'file'], this.env(opts.env));
    const host = `${this.hostname}@file`;
    await poll(
      `the worker's cinder-volume heartbeat for ${host}`,
      async () => {
        worker.assertRunning();
        const { rows } = await this.pool.query(
          'SELECT 1 FROM services WHERE "binary" = \'cinder-volume\' AND host = $1 AND heartbeat_at >= $2',
          [host, since],
        );
        return rows.length === 1;
      },
      { diag: () => worker.output() },
    ).catch(async (err) => {
      await worker.kill('SIGKILL');
      throw err;
    });
    return worker;
  }

  /** `cairn backup-worker`, ready once its `cinder-backup` service row has a heartbeat from after the spawn. */
  async startBackupWorker(opts: StartOptions = {}): Promise<CairnProcess> {
    const since = new Date(Date.now() - 1000);
    const worker = this.spawn('cairn backup-worker', ['backup-worker'], this.env(opts.env));
    await poll(
      "the backup worker's cinder-backup heartbeat",
      async () => {
        worker.assertRunning();
        const { rows } = await this.pool.query(
          'SELECT 1 FROM services WHERE "binary" = \'cinder-backup\' AND host = $1 AND heartbeat_at >= $2',
          [this.hostname, since],
        );
        return rows.length === 1;
      },
      { diag: () => worker.output() },
    ).catch(async (err) => {
      await worker.kill('SIGKILL');
      throw err;
    });
    return worker;
  }

  /** `cairn-manage ARGS` with the suite's environment. */
  manage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [MANAGE_JS, ...args], { cwd: ROOT, env: this.env(), timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Everything the suite's processes printed, for failure messages. */
  output(): string {
    return this.procs.map((p) => p.output()).join('\n');
  }

  /** Stops every process (SIGTERM, then SIGKILL), drops the database, deletes the AMQP topology and the data dir. */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (op: () => Promise<unknown>) => {
      try {
        await op();
      } catch (err) {
        errors.push(err);
      }
    };
    await Promise.all(this.procs.map((p) => attempt(() => p.kill('SIGTERM'))));
    await attempt(() => this.pool.end());
    await attempt(async () => {
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
          this.dbName,
        ]);
        await admin.query(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    });
    await attempt(() => deleteTopology(AMQP_URL, this.prefix, BACKENDS));
    await attempt(async () => fs.rmSync(this.dataDir, { recursive: true, force: true }));
    if (errors.length) throw new AggregateError(errors, `suite cleanup failed: ${errors.map(String).join('; ')}`);
  }
}

/** A small JSON client for one API process. */
export function client(api: () => CairnProcess) {
  const call = async (method: string, p: string, body?: unknown): Promise<HttpResult> => {
    const res = await fetch(`${api().url}/v3/${PROJECT}${p}`, {
      method,
      headers: { ...HEADERS, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    get: (p: string) => call('GET', p),
    post: (p: string, body: unknown) => call('POST', p, body),
    put: (p: string, body: unknown) => call('PUT', p, body),
    delete: (p: string) => call('DELETE', p),
  };
}
