/**
 * `npm run bench`: throughput, latency and memory of cairn, in two modes, at several volume counts,
 * beside the machine's bare limits measured in the same run.
 *
 *  0. bare limits: a Node HTTP server answering a fixed JSON body (a volume show's size), and (with
 *     PostgreSQL) a Node HTTP server doing one indexed single-row select through `pg` per request,
 *     each as BENCH_API_PROCESSES processes, under the same load generator;
 *  1. embedded: `cairn all-in-one` (PGlite on disk in a temp CAIRN_DATA_DIR, in-process transport);
 *  2. distributed: `cairn api --processes N` + `cairn worker --backend file` on PostgreSQL and RabbitMQ,
 *     a fresh database `cairn_bench_<random>` and a unique AMQP prefix, both removed afterwards. Runs
 *     when both answer (or always with BENCH_DISTRIBUTED=1; never with BENCH_DISTRIBUTED=0).
 *
 * Each mode: a burst of BENCH_BURST (1,000) creates through the API, BENCH_LOAD_CONCURRENCY at a time,
 * all until `available` (the rate printed); then for each of BENCH_SCALES (10000,100000) the project is
 * filled to that many volumes with SQL (embedded: through the data dir's PGlite while cairn is
 * stopped; distributed: through PostgreSQL), and it measures `GET /volumes/detail?limit=100` (first
 * page, and a deep page by marker: the 100 oldest volumes), `GET /volumes/{id}`, `GET /types` (closed
 * loop, BENCH_CONNECTIONS keep-alive connections) and create→available (BENCH_CREATES one after
 * another), while sampling the cairn processes' RSS every 100 ms and their CPU time (/proc). cairn runs
 * as child processes of the built code (with the node options of `bin/cairn`, as `npm start` runs
 * it), so the load generator's own work never counts in cairn's figures; it does share the machine's
 * CPUs, which caps every rate below (the bare ones too).
 *
 * Environment: BENCH_SCALES (10000,100000; BENCH_VOLUMES=n is one scale), BENCH_SECONDS (10),
 * BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (16), BENCH_CREATES (50), BENCH_BURST (1000),
 * BENCH_LOAD_CONCURRENCY (32), BENCH_MODES (embedded,distributed), BENCH_DATABASE_URL
 * (postgres://postgres@127.0.0.1:5432/postgres, the server to create the database on), BENCH_AMQP_URL
 * (amqp://guest:guest@127.0.0.1:5672), BENCH_API_PROCESSES (2: `cairn api --processes N` in the
 * distributed mode, and the bare servers' process count), BENCH_CPU_PROF=<dir> (run cairn with
 * --cpu-prof into <dir>, with phases.json to slice the profiles).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as amqpConnect } from 'amqplib';
import { Client as PgClient } from 'pg';
import { openDb } from '../src/db/connection';
import { deleteTopology } from '../src/workers/amqpTransport';
import { startBare, waitForBare } from './bare';
import { CairnProcess, children, freePort, waitForHttp } from './cairn';
import { Client, pool, runLoad, type LoadResult } from './http';
import { readTreeCpuMs, RssSampler } from './rss';
import { median, mib, ms, percentile, seconds } from './stats';
import { seedVolumes, type SeedTarget } from './seed';
import { volumeBodies } from './volumes';

const PROJECT = 'b3e1c0de5a7f4c2e9d8b7a6f5e4d3c2b';
const USER = '7a6b5c4d3e2f40918273645546372819';

function intEnv(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
}

const SCALES = (process.env.BENCH_SCALES ?? process.env.BENCH_VOLUMES ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
if (SCALES.length === 0) throw new Error('BENCH_SCALES must list volume counts, e.g. 10000,100000');
const SECONDS = intEnv('BENCH_SECONDS', 10);
/** Distributed mode: `cairn api --processes N` (its CPU and RSS are then the N processes' and the supervisor's together). */
const API_PROCESSES = intEnv('BENCH_API_PROCESSES', 2);
const API_LABEL = API_PROCESSES > 1 ? `cairn api (${API_PROCESSES} processes)` : 'cairn api';
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 16);
const CREATES = intEnv('BENCH_CREATES', 50);
const BURST = intEnv('BENCH_BURST', 1000);
const LOAD_CONCURRENCY = intEnv('BENCH_LOAD_CONCURRENCY', 32);
const MODES = new Set((process.env.BENCH_MODES ?? 'embedded,distributed').split(',').map((s) => s.trim()));
const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.BENCH_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
/** Seeded volumes older than this index form the deep page (the last one, by marker). */
const DEEP = 100;

/** With BENCH_CPU_PROF: phase boundaries on the monotonic clock V8's profiles use (µs), to slice them. */
const phaseMarks: Array<{ mode: string; phase: string; fromUs: number; toUs: number }> = [];
async function phase<T>(mode: string, name: string, fn: () => Promise<T>): Promise<T> {
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  try {
    return await fn();
  } finally {
    phaseMarks.push({ mode, phase: name, fromUs, toUs: Number(process.hrtime.bigint() / 1000n) });
    if (CPU_PROF_DIR) fs.writeFileSync(path.join(CPU_PROF_DIR, 'phases.json'), JSON.stringify(phaseMarks, null, 1));
  }
}

// --- cleanup: a stack run once, on success, failure, SIGINT or SIGTERM ------------------

const cleanups: Array<{ what: string; fn: () => Promise<void> | void }> = [];
const tempDirs = new Set<string>();
let cleaning: Promise<void> | undefined;

function onCleanup(what: string, fn: () => Promise<void> | void): void {
  cleanups.push({ what, fn });
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (let c = cleanups.pop(); c; c = cleanups.pop()) {
      try {
        await c.fn();
      } catch (err) {
        console.error(`cleanup: ${c.what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}

function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  onCleanup(`remove ${dir}`, () => {
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  });
  return dir;
}

// Whatever happens, no child outlives us and no temp dir stays behind.
process.on('exit', () => {
  for (const c of children) c.killNow();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

// --- measurements -------------------------------------------------------------------

/** A load run with the cairn processes' CPU time per request (all requests sent, warm-up included) and their RSS peak. */
type Measurement = LoadResult & { readonly cpuMsPerRequest: number; readonly peakKib: number[] };

interface Measured {
  readonly label: string;
  readonly sampler: RssSampler;
}

interface ScaleResult {
  readonly volumes: number;
  readonly seeded: { count: number; ms: number };
  readonly endpoints: Array<{ name: string; m: Measurement }>;
  readonly createToAvailable: number[];
  readonly memory: Array<{ label: string; hwmKib: number }>;
}

interface BurstResult {
  readonly count: number;
  readonly postMs: number;
  readonly allAvailableMs: number;
  readonly cpuPerVolume: number;
}

interface ModeResult {
  readonly mode: string;
  readonly burst: BurstResult;
  readonly scales: ScaleResult[];
  readonly bare?: Array<{ name: string; m: LoadResult }>;
  readonly notes?: string[];
}

const apiPath = (p: string) => `/v3/${PROJECT}/${p}`;
const loadOpts = () => ({ connections: CONNECTIONS, warmupMs: WARMUP_SECONDS * 1000, durationMs: SECONDS * 1000 });

async function untilTrue(what: string, timeoutMs: number, cond: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function apiClient(origin: string): Client {
  return new Client(
    origin,
    {
      'x-auth-token': `${USER}:${PROJECT}`,
      'openstack-api-version': 'volume 3.70',
      accept: 'application/json',
    },
    Math.max(CONNECTIONS, LOAD_CONCURRENCY) + 4,
  );
}

const cpuOf = (procs: CairnProcess[]) => procs.reduce((sum, p) => sum + (readTreeCpuMs(p.pid) ?? 0), 0);

/**
 * Lifts the bench project's quota, then a burst of BURST creates, LOAD_CONCURRENCY at a time,
 * until every volume is `available`. Returns the volumes' ids and the host they landed on.
 */
async function burst(mode: string, client: Client, procs: CairnProcess[]): Promise<{ result: BurstResult; ids: string[]; host: string }> {
  // Cinder's default quota is 10 volumes and 1000 GiB a project; lift it for the bench project
  // (-1: unlimited, which also spares every create the usage sum). A cairn without quotas answers 404.
  const quota = await client.raw('PUT', apiPath(`os-quota-sets/${PROJECT}`), { quota_set: { volumes: -1, gigabytes: -1 } });
  if (quota.status !== 200 && quota.status !== 404)
    throw new Error(`setting the bench project's quota answered ${quota.status}: ${quota.text}`);
  const bodies = volumeBodies(BURST, 4242);
  const ids: string[] = new Array(BURST);
  process.stdout.write(`  burst: ${BURST} creates through the API (${LOAD_CONCURRENCY} concurrent)… `);
  const t0 = performance.now();
  const cpu0 = cpuOf(procs);
  await phase(mode, 'burst', () =>
    pool(BURST, LOAD_CONCURRENCY, async (i) => {
      const { volume } = await client.json<{ volume: { id: string } }>('POST', apiPath('volumes'), bodies[i], 202);
      ids[i] = volume.id;
    }),
  );
  const postMs = performance.now() - t0;
  process.stdout.write(`${seconds(postMs)}; until all available… `);
  await untilTrue(
    'every volume to leave creating',
    300_000,
    async () => {
      procs.forEach((p) => p.assertAlive());
      const page = await client.json<{ volumes: unknown[] }>('GET', apiPath('volumes?status=creating&limit=1'));
      return page.volumes.length === 0;
    },
    20,
  );
  const allAvailableMs = performance.now() - t0;
  const cpuPerVolume = (cpuOf(procs) - cpu0) / BURST;
  process.stdout.write(`${seconds(allAvailableMs)}\n`);
  const errored = await client.json<{ count: number }>('GET', apiPath('volumes?status=error&with_count=true&limit=1'));
  if (errored.count > 0) throw new Error(`${errored.count} volumes went to error`);
  const model = await client.json<{ volume: Record<string, string> }>('GET', apiPath(`volumes/${ids[0]}`));
  return { result: { count: BURST, postMs, allAvailableMs, cpuPerVolume }, ids, host: model.volume['os-vol-host-attr:host']! };
}

/** One closed-loop run on `path()`, with CPU per request and the RSS peak of each measured process. */
async function endpoint(
  mode: string,
  name: string,
  client: Client,
  procs: CairnProcess[],
  measured: Measured[],
  pathFn: () => string,
): Promise<Measurement> {
  console.log(`  ${name}: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s…`);
  measured.forEach((m) => m.sampler.phase());
  const cpu0 = cpuOf(procs);
  const r = await phase(mode, name, () => runLoad(client, { ...loadOpts(), path: pathFn }));
  const peakKib = measured.map((m) => m.sampler.phase());
  procs.forEach((p) => p.assertAlive());
  return { ...r, cpuMsPerRequest: (cpuOf(procs) - cpu0) / r.sent, peakKib };
}

/** The measurements at one scale, identical for both modes, against an API at `origin`. */
async function measureScale(
  mode: string,
  origin: string,
  procs: CairnProcess[],
  labels: string[],
  volumes: number,
  seeded: { count: number; ms: number },
  showIds: readonly string[],
  deepMarker: string,
): Promise<ScaleResult> {
  const client = apiClient(origin);
  const measured: Measured[] = procs.map((p, i) => ({
    label: labels[i]!,
    sampler: new RssSampler(p.pid, 100, false, labels[i] === API_LABEL && API_PROCESSES > 1).start(),
  }));
  try {
    const counts = await client.json<{ count: number }>('GET', apiPath('volumes?with_count=true&limit=1'));
    if (counts.count < volumes) throw new Error(`expected ${volumes} volumes, the API counts ${counts.count}`);
    // Sanity: the pages really are 100 volumes.
    const first = await client.json<{ volumes: unknown[]; volumes_links?: unknown[] }>('GET', apiPath('volumes/detail?limit=100'));
    if (first.volumes.length !== 100 || !first.volumes_links) throw new Error(`detail page has ${first.volumes.length} volumes`);
    const deepPath = apiPath(`volumes/detail?limit=100&marker=${deepMarker}`);
    const deep = await client.json<{ volumes: unknown[] }>('GET', deepPath);
    if (deep.volumes.length !== DEEP) throw new Error(`the deep detail page has ${deep.volumes.length} volumes, not ${DEEP}`);
    const endpoints: ScaleResult['endpoints'] = [];
    const run = async (name: string, p: () => string) =>
      endpoints.push({ name, m: await endpoint(mode, `${name} @${volumes}`, client, procs, measured, p) });
    await run('GET /volumes/detail?limit=100', () => apiPath('volumes/detail?limit=100'));
    await run(`  deep page (marker, ~${volumes - DEEP} in)`, () => deepPath);
    let k = 0;
    // A spread of ids, not one hot row: a stride through the volumes.
    await run('GET /volumes/{id}', () => apiPath(`volumes/${showIds[(k = (k + 7919) % showIds.length)]}`));
    await run('GET /types', () => apiPath('types'));
    console.log(`  create→available: ${CREATES} creates, one after another, polling GET /volumes/{id} without pause…`);
    const createToAvailable = await phase(mode, `create @${volumes}`, () => createUntilAvailable(client, CREATES));
    return {
      volumes: counts.count,
      seeded,
      endpoints,
      createToAvailable,
      memory: measured.map((m) => ({ label: m.label, hwmKib: m.sampler.hwm() })),
    };
  } finally {
    measured.forEach((m) => m.sampler.stop());
    client.close();
  }
}

/** Creates `n` volumes one after another; each time is from POST until a show says `available`. */
async function createUntilAvailable(client: Client, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const { volume } = await client.json<{ volume: { id: string } }>(
      'POST',
      apiPath('volumes'),
      { volume: { size: 1 + (i % 10), name: `bench-c2a-${i}` } },
      202,
    );
    // Poll without pausing: the next GET leaves as soon as the previous answer is in.
    for (;;) {
      const { volume: v } = await client.json<{ volume: { status: string } }>('GET', apiPath(`volumes/${volume.id}`));
      if (v.status === 'available') break;
      if (v.status !== 'creating') throw new Error(`volume ${volume.id} went to ${v.status}`);
      if (performance.now() - t0 > 30_000) throw new Error(`volume ${volume.id} not available after 30 s`);
    }
    times.push(performance.now() - t0);
  }
  return times;
}

/** Adds seeded volumes until the project holds `target`; `seededIds` grows (oldest first). */
async function fillTo(db: import('knex').Knex, target: number, seededIds: string[], t: SeedTarget): Promise<{ count: number; ms: number }> {
  const [{ n }] = (await db.raw('SELECT count(*)::int AS n FROM volumes WHERE project_id = ?', [PROJECT])).rows as Array<{ n: number }>;
  const missing = target - n;
  if (missing <= 0) return { count: 0, ms: 0 };
  process.stdout.write(`  inserting ${missing} volumes with SQL (to ${target})… `);
  const t0 = performance.now();
  seededIds.push(...(await seedVolumes(db, volumeBodies(missing, 20261123 + seededIds.length), t, seededIds.length)));
  const msTaken = performance.now() - t0;
  process.stdout.write(`${seconds(msTaken)}\n`);
  return { count: missing, ms: msTaken };
}

/** Bare limits at `origin` under the same load generator (fixed path, no auth needed). */
async function bareRun(name: string, origin: string): Promise<LoadResult> {
  const client = new Client(origin, {}, CONNECTIONS + 4);
  try {
    console.log(`  ${name}: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s…`);
    return await runLoad(client, { ...loadOpts(), path: () => '/' });
  } finally {
    client.close();
  }
}

async function bareHttp(body: string): Promise<LoadResult> {
  const port = await freePort();
  const proc = startBare('bare http', makeTempDir('cairn-bare-'), { port, processes: API_PROCESSES, body });
  onCleanup('stop bare http', () => proc.stop());
  await waitForBare(proc, `http://127.0.0.1:${port}`);
  const r = await bareRun(`bare Node HTTP, fixed JSON body (${API_PROCESSES} processes)`, `http://127.0.0.1:${port}`);
  await proc.stop();
  return r;
}

async function barePg(databaseUrl: string): Promise<LoadResult> {
  const port = await freePort();
  const proc = startBare('bare pg', makeTempDir('cairn-bare-'), { port, processes: API_PROCESSES, pg: { databaseUrl } });
  onCleanup('stop bare pg', () => proc.stop());
  await waitForBare(proc, `http://127.0.0.1:${port}`);
  const r = await bareRun(`bare Node HTTP + one select by primary key through pg (${API_PROCESSES} processes)`, `http://127.0.0.1:${port}`);
  await proc.stop();
  return r;
}

function cairnEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CAIRN_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    CAIRN_HOSTNAME: 'bench',
    DATABASE_URL: '',
    AMQP_URL: '',
    CAIRN_AMQP_PREFIX: 'cairn',
    ...extra,
  };
}

function nodeArgs(name: string): string[] {
  if (!CPU_PROF_DIR) return [];
  // A folder per process name, Node's own file names within (they carry the pid): the children of
  // `cairn api --processes N` inherit these options, and one fixed file name would be overwritten by each.
  const dir = path.join(CPU_PROF_DIR, `${name}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

function spawnCairn(name: string, args: string[], env: Record<string, string>): CairnProcess {
  const proc = new CairnProcess(name.replace(/[^\w.-]+/g, '-'), args, env, nodeArgs(name.replace(/[^\w.-]+/g, '-')));
  onCleanup(`stop ${name}`, () => proc.stop());
  return proc;
}

async function embedded(): Promise<ModeResult> {
  const label = 'embedded (PGlite + in-process)';
  console.log(`\nmode: ${label}`);
  const dataDir = makeTempDir('cairn-bench-');
  const env = cairnEnv(dataDir, { PORT: String(await freePort()) });
  // First start: cairn runs PGlite's initdb in a child process (src/db/pgliteInitdb.ts) and migrates.
  // Its start is measured apart; then the burst, on this first process.
  const first = spawnCairn('all-in-one (first start)', ['all-in-one'], env);
  const firstSampler = new RssSampler(first.pid, 100, true).start();
  const firstStart = performance.now();
  const firstOrigin = `http://127.0.0.1:${env.PORT}`;
  await waitForHttp(first, firstOrigin);
  const firstStartMs = performance.now() - firstStart;
  const firstStartKib = firstSampler.hwm();
  const firstTreeKib = firstSampler.treePeak();
  firstSampler.stop();
  const firstNote =
    `first start on an empty data dir (initdb + migrations): ${seconds(firstStartMs)}, peak RSS ${mib(firstStartKib)}` +
    ` (with the initdb child process: ${mib(firstTreeKib)})`;
  console.log(`  ${firstNote}`);
  const firstClient = apiClient(firstOrigin);
  const b = await burst(label, firstClient, [first]);
  firstClient.close();
  await first.stop();

  const seededIds: string[] = [];
  const target: SeedTarget = {
    projectId: PROJECT,
    userId: USER,
    host: b.host,
    backend: 'file',
    volumeDir: path.join(dataDir, 'volumes', 'file'),
  };
  const scales: ScaleResult[] = [];
  for (const scale of SCALES) {
    // PGlite is one process's: the bench opens the data dir while cairn is stopped.
    const db = openDb({ databaseUrl: '', dataDir });
    let seeded;
    try {
      seeded = await fillTo(db, scale, seededIds, target);
    } finally {
      await db.destroy();
    }
    const port = await freePort();
    const proc = spawnCairn(`all-in-one @${scale}`, ['all-in-one'], { ...env, PORT: String(port) });
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(proc, origin);
    scales.push(await measureScale(label, origin, [proc], ['cairn all-in-one'], scale, seeded, [...b.ids, ...seededIds], seededIds[DEEP]!));
    await proc.stop(); // on failure, cleanup stops it after its output is shown
  }
  return {
    mode: label,
    burst: b.result,
    scales,
    notes: [firstNote, 'cairn restarted at each scale (the bench seeds its PGlite data dir while it is stopped)'],
  };
}

/** Whether PostgreSQL and RabbitMQ answer within a couple of seconds. */
async function distributedAvailable(): Promise<string | undefined> {
  const timeout = <T>(p: Promise<T>, what: string) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in 3 s`)), 3000).unref())]);
  try {
    const pg = new PgClient({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    await timeout(pg.connect(), 'PostgreSQL');
    await pg.query('SELECT 1');
    await pg.end();
  } catch (err) {
    return `PostgreSQL at ${redact(PG_ADMIN_URL)} does not answer (${err instanceof Error ? err.message : err})`;
  }
  try {
    const conn = await timeout(amqpConnect(AMQP_URL, { timeout: 3000 }), 'RabbitMQ');
    await conn.close();
  } catch (err) {
    return `RabbitMQ at ${redact(AMQP_URL)} does not answer (${err instanceof Error ? err.message : err})`;
  }
  return undefined;
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function distributed(): Promise<ModeResult> {
  const label = `distributed (PostgreSQL + RabbitMQ, ${API_LABEL} + cairn worker)`;
  console.log(`\nmode: ${label}`);
  const suffix = randomBytes(6).toString('hex');
  const dbName = `cairn_bench_${suffix}`;
  const prefix = `cairn-bench-${suffix}`;

  const admin = new PgClient({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.end();
  }
  onCleanup(`drop database ${dbName}`, async () => {
    const c = new PgClient({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  // Registered before the processes, so it runs after they have stopped.
  onCleanup(`delete AMQP topology ${prefix}`, () => deleteTopology(AMQP_URL, prefix, ['file']));
  const dbUrl = new URL(PG_ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  console.log(`  database ${dbName}, AMQP prefix ${prefix}`);

  const dataDir = makeTempDir('cairn-bench-');
  const port = await freePort();
  const env = cairnEnv(dataDir, { DATABASE_URL: dbUrl.toString(), AMQP_URL, CAIRN_AMQP_PREFIX: prefix, PORT: String(port) });
  const api = spawnCairn('api', ['api', '--processes', String(API_PROCESSES)], env);
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(api, origin); // migrations are done once it answers
  const worker = spawnCairn('worker', ['worker', '--backend', 'file'], env);
  // A worker registers its service row after its consumer is up.
  await untilTrue('the worker to register', 60_000, async () => {
    worker.assertAlive();
    const res = await fetch(`${origin}/v3/${PROJECT}/os-services?binary=cinder-volume`, {
      headers: { 'x-auth-token': `${USER}:${PROJECT}` },
    });
    const body = (await res.json()) as { services?: Array<{ state: string }> };
    return (body.services ?? []).some((s) => s.state === 'up');
  });
  const client = apiClient(origin);
  const b = await burst(label, client, [api, worker]);
  client.close();
  const seededIds: string[] = [];
  const target: SeedTarget = {
    projectId: PROJECT,
    userId: USER,
    host: b.host,
    backend: 'file',
    volumeDir: path.join(dataDir, 'volumes', 'file'),
  };
  const db = openDb({ databaseUrl: dbUrl.toString(), dataDir });
  const scales: ScaleResult[] = [];
  try {
    for (const scale of SCALES) {
      const seeded = await fillTo(db, scale, seededIds, target);
      scales.push(
        await measureScale(
          label,
          origin,
          [api, worker],
          [API_LABEL, 'cairn worker'],
          scale,
          seeded,
          [...b.ids, ...seededIds],
          seededIds[DEEP]!,
        ),
      );
    }
  } finally {
    await db.destroy();
  }
  await worker.stop();
  await api.stop();
  // The database's own limit, with cairn stopped: one select by primary key per HTTP request.
  const bare = [{ name: 'bare: one pg select/request', m: await barePg(dbUrl.toString()) }];
  return { mode: label, burst: b.result, scales, bare };
}

// --- report -------------------------------------------------------------------------

function report(r: ModeResult, bareHttpRate: number): void {
  const rate = (x: LoadResult) => `${x.requestsPerSecond.toFixed(0).padStart(6)} req/s`;
  const frac = (x: LoadResult) => `${((100 * x.requestsPerSecond) / bareHttpRate).toFixed(1).padStart(5)}% of bare HTTP`;
  const lat = (x: LoadResult) => `p50 ${ms(x.p50Ms)}   p99 ${ms(x.p99Ms)}`;
  const errs = (x: LoadResult) => (x.errors ? `   (${x.errors} errors!)` : '');
  console.log(`\n  mode: ${r.mode}`);
  const b = r.burst;
  console.log(
    `  burst of ${b.count} creates: POSTs done in ${seconds(b.postMs)}, all available after ${seconds(b.allAvailableMs)}` +
      ` = ${(b.count / (b.allAvailableMs / 1000)).toFixed(0)} volumes/s (cairn CPU ${b.cpuPerVolume.toFixed(1)} ms/volume)`,
  );
  for (const s of r.scales) {
    const sql = s.seeded.count ? `; ${s.seeded.count} inserted with SQL in ${seconds(s.seeded.ms)}` : '';
    console.log(`  -- ${s.volumes} volumes in the project${sql}`);
    for (const { name, m } of s.endpoints) {
      console.log(`  ${name.padEnd(36)} ${rate(m)} (${frac(m)})   ${lat(m)}   cairn CPU ${m.cpuMsPerRequest.toFixed(2)} ms/req${errs(m)}`);
    }
    console.log(
      `  create→available (n=${s.createToAvailable.length})${' '.repeat(Math.max(0, 9 - String(s.createToAvailable.length).length))}` +
        `median ${ms(median(s.createToAvailable))}   p99 ${ms(percentile(s.createToAvailable, 99))}`,
    );
    console.log(`  peak RSS: ${s.memory.map((m) => `${m.label} ${mib(m.hwmKib)}`).join(', ')}`);
  }
  for (const x of r.bare ?? []) console.log(`  ${x.name.padEnd(36)} ${rate(x.m)} (${frac(x.m)})   ${lat(x.m)}${errs(x.m)}`);
  for (const n of r.notes ?? []) console.log(`  ${n}`);
}

/** A volume show's answer, as the bare HTTP server's fixed body (same size on the wire). */
const SHOW_LIKE_BODY = JSON.stringify({
  volume: {
    id: '0b9f5a52-8c44-4b43-9d5e-0d1e7f2a1c11',
    status: 'available',
    size: 10,
    availability_zone: 'nova',
    created_at: '2026-01-01T00:00:00.000000',
    updated_at: '2026-01-01T00:00:00.030000',
    name: 'billing-db-00001',
    description: null,
    volume_type: '__DEFAULT__',
    snapshot_id: null,
    source_volid: null,
    metadata: { env: 'prod', team: 'payments' },
    links: [
      { rel: 'self', href: 'http://127.0.0.1:8776/v3/b3e1c0de5a7f4c2e9d8b7a6f5e4d3c2b/volumes/0b9f5a52-8c44-4b43-9d5e-0d1e7f2a1c11' },
      { rel: 'bookmark', href: 'http://127.0.0.1:8776/b3e1c0de5a7f4c2e9d8b7a6f5e4d3c2b/volumes/0b9f5a52-8c44-4b43-9d5e-0d1e7f2a1c11' },
    ],
    user_id: USER,
    bootable: 'false',
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: false,
    attachments: [],
    'os-vol-tenant-attr:tenant_id': PROJECT,
    volume_type_id: 'c0ffee00-0000-4000-8000-000000000001',
    group_id: null,
    provider_id: null,
    service_uuid: null,
    shared_targets: true,
    cluster_name: null,
    consumes_quota: true,
  },
});

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(__dirname, '..', 'src', 'cli', 'cairn.js'))) throw new Error('build first: npm run build');
  console.log(
    `cairn benchmark: scales ${SCALES.join(', ')} volumes, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per endpoint,` +
      ` burst ${BURST}, ${CREATES} creates; ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, node ${process.version}`,
  );
  console.log('The load generator runs in this process on the same CPUs: every rate below, the bare ones too, is what is left beside it.');
  console.log('\nbare limits of this machine:');
  const bareHttpResult = await bareHttp(SHOW_LIKE_BODY);
  const results: ModeResult[] = [];
  const skipped: string[] = [];
  if (MODES.has('embedded')) results.push(await embedded());
  if (MODES.has('distributed')) {
    const forced = process.env.BENCH_DISTRIBUTED;
    if (forced === '0') {
      skipped.push('distributed: skipped (BENCH_DISTRIBUTED=0)');
    } else {
      const missing = forced === '1' ? undefined : await distributedAvailable();
      if (missing) {
        skipped.push(`distributed: skipped, ${missing}; set BENCH_DISTRIBUTED=1 to insist`);
        console.log(`\nmode distributed: skipped, ${missing}`);
      } else {
        results.push(await distributed());
      }
    }
  }
  console.log(
    `\n=== results (load average now ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; the load generator shares the ${os.cpus().length} CPUs) ===`,
  );
  const h = bareHttpResult;
  console.log(
    `\n  bare Node HTTP, fixed JSON body (${API_PROCESSES} processes)   ${h.requestsPerSecond.toFixed(0)} req/s   p50 ${ms(h.p50Ms)}   p99 ${ms(h.p99Ms)}`,
  );
  for (const r of results) report(r, h.requestsPerSecond);
  for (const s of skipped) console.log(`\n  mode ${s}`);
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (err) => {
    // Interrupted: the signal handler is cleaning up and exits; what failed meanwhile is its doing.
    if (interrupted) return cleanup();
    console.error(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    for (const c of children) console.error(`--- ${c.name} output ---\n${c.tail()}`);
    return cleanup().then(() => process.exit(1));
  },
);
