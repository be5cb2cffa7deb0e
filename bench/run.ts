/**
 * `npm run bench`: throughput, latency and memory of cairn, in two modes.
 *
 *  1. embedded: `cairn all-in-one` (PGlite on disk in a temp CAIRN_DATA_DIR, in-process transport);
 *  2. distributed: `cairn api` + `cairn worker --backend file` on PostgreSQL and RabbitMQ, a fresh
 *     database `cairn_bench_<random>` and a unique AMQP prefix, both removed afterwards. Runs when both
 *     answer (or always with BENCH_DISTRIBUTED=1; never with BENCH_DISTRIBUTED=0).
 *
 * Each mode fills the database with BENCH_VOLUMES (10,000) volumes of the bench project: embedded,
 * all through the API (which gives creates/s); distributed, BENCH_API_CREATES (2,000) through the API
 * for creates/s and the rest inserted with SQL (BENCH_PG_LOAD=api: all through the API). Then it
 * measures `GET /volumes/detail?limit=100`, `GET /volumes/{id}` (closed loop, BENCH_CONNECTIONS
 * keep-alive connections) and create→available, while sampling the cairn processes' RSS every 100 ms
 * and their CPU time (/proc). cairn runs as child processes of the built code (with the node options of
 * `bin/cairn`, as `npm start` runs it), so the load generator's
 * own work never counts in cairn's figures (it does share the machine's CPUs).
 *
 * Environment: BENCH_VOLUMES, BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (32),
 * BENCH_CREATES (50), BENCH_LOAD_CONCURRENCY (32), BENCH_API_CREATES (2000), BENCH_PG_LOAD (sql|api),
 * BENCH_MODES (embedded,distributed), BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres,
 * the server to create the database on), BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672),
 * BENCH_API_PROCESSES (1: `cairn api --processes N` in the distributed mode), BENCH_CPU_PROF=<dir> (run cairn with --cpu-prof into <dir>, with phases.json to slice the profiles).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as amqpConnect } from 'amqplib';
import { Client as PgClient } from 'pg';
import { deleteTopology } from '../src/workers/amqpTransport';
import { CairnProcess, children, freePort, waitForHttp } from './cairn';
import { Client, pool, runLoad, type LoadResult } from './http';
import { readTreeCpuMs, RssSampler } from './rss';
import { median, mib, ms, percentile, seconds } from './stats';
import { seedVolumes } from './seed';
import { volumeBodies, type VolumeCreateBody } from './volumes';

const PROJECT = 'b3e1c0de5a7f4c2e9d8b7a6f5e4d3c2b';
const USER = '7a6b5c4d3e2f40918273645546372819';

function intEnv(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
}

const VOLUMES = intEnv('BENCH_VOLUMES', 10_000);
const SECONDS = intEnv('BENCH_SECONDS', 10);
/** Distributed mode: `cairn api --processes N` (its CPU and RSS are then the N processes' and the supervisor's together). */
const API_PROCESSES = intEnv('BENCH_API_PROCESSES', 1);
const API_LABEL = API_PROCESSES > 1 ? `cairn api (${API_PROCESSES} processes)` : 'cairn api';
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 32);
const CREATES = intEnv('BENCH_CREATES', 50);
const LOAD_CONCURRENCY = intEnv('BENCH_LOAD_CONCURRENCY', 32);
/** Distributed mode: creates through the API (for creates/s); the rest of BENCH_VOLUMES go in with SQL. */
const API_CREATES = intEnv('BENCH_API_CREATES', 2000);
const MODES = new Set((process.env.BENCH_MODES ?? 'embedded,distributed').split(',').map((s) => s.trim()));
const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.BENCH_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;

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

// --- one mode -----------------------------------------------------------------------

/** A load run with the cairn processes' CPU time per request (all requests sent, warm-up included). */
type Measurement = LoadResult & { readonly cpuMsPerRequest: number };

interface Measured {
  readonly label: string;
  readonly sampler: RssSampler;
}

interface ModeResult {
  readonly mode: string;
  readonly volumes: number;
  /** Volumes created through the API (the rest, if any, inserted with SQL). */
  readonly viaApi: number;
  readonly loadMs: number;
  readonly allAvailableMs: number;
  /** CPU time of the cairn processes per volume created through the API, until all were available. */
  readonly loadCpuPerVolume: number;
  readonly seeded?: { count: number; ms: number };
  readonly detail: Measurement;
  readonly show: Measurement;
  readonly createToAvailable: number[];
  readonly memory: Array<{ label: string; afterLoadKib: number; detailPeakKib: number; showPeakKib: number; hwmKib: number }>;
  readonly notes?: string[];
}

const apiPath = (p: string) => `/v3/${PROJECT}/${p}`;

async function untilTrue(what: string, timeoutMs: number, cond: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Puts volumes straight into the database (distributed mode): the bodies, and a volume the API made as a model. */
type Seeder = (bodies: VolumeCreateBody[], model: { host: string }) => Promise<string[]>;

/** The measurements, identical for both modes, against an API at `origin`. */
async function measure(mode: string, origin: string, procs: CairnProcess[], labels: string[], seeder?: Seeder): Promise<ModeResult> {
  const client = new Client(origin, {
    'x-auth-token': `${USER}:${PROJECT}`,
    'openstack-api-version': 'volume 3.70',
    accept: 'application/json',
  }, Math.max(CONNECTIONS, LOAD_CONCURRENCY) + 4);
  const measured: Measured[] = procs.map((p, i) => ({ label: labels[i]!, sampler: new RssSampler(p.pid, 100, false, labels[i] === API_LABEL && API_PROCESSES > 1).start() }));
  const alive = () => procs.forEach((p) => p.assertAlive());
  const cpuMs = () => procs.reduce((sum, p) => sum + (readTreeCpuMs(p.pid) ?? 0), 0);
  try {
    // Cinder's default quota is 10 volumes and 1000 GiB a project; lift it for the bench project
    // (-1: unlimited, which also spares every create the usage sum). A cairn without quotas answers 404.
    const quota = await client.raw('PUT', apiPath(`os-quota-sets/${PROJECT}`), { quota_set: { volumes: -1, gigabytes: -1 } });
    if (quota.status !== 200 && quota.status !== 404) throw new Error(`setting the bench project's quota answered ${quota.status}: ${quota.text}`);

    // Load: creates through the API, LOAD_CONCURRENCY at a time (all of them, or with a seeder a sample).
    const bodies = volumeBodies(VOLUMES);
    const viaApi = seeder ? Math.min(VOLUMES, API_CREATES) : VOLUMES;
    const ids: string[] = new Array(viaApi);
    process.stdout.write(`  creating ${viaApi} volumes through the API (${LOAD_CONCURRENCY} concurrent creates)… `);
    const loadStart = performance.now();
    const loadCpu0 = cpuMs();
    await phase(mode, 'load', () => pool(viaApi, LOAD_CONCURRENCY, async (i) => {
      const { volume } = await client.json<{ volume: { id: string } }>('POST', apiPath('volumes'), bodies[i], 202);
      ids[i] = volume.id;
    }));
    const loadMs = performance.now() - loadStart;
    process.stdout.write(`${seconds(loadMs)}\n  waiting for every volume to be available… `);
    await untilTrue('every volume to leave creating', 300_000, async () => {
      alive();
      const page = await client.json<{ volumes: unknown[] }>('GET', apiPath('volumes?status=creating&limit=1'));
      return page.volumes.length === 0;
    }, 100);
    const allAvailableMs = performance.now() - loadStart;
    const loadCpuPerVolume = (cpuMs() - loadCpu0) / viaApi;
    process.stdout.write(`${seconds(allAvailableMs)} after the first create\n`);
    let seeded: { count: number; ms: number } | undefined;
    if (seeder && viaApi < VOLUMES) {
      process.stdout.write(`  inserting the other ${VOLUMES - viaApi} volumes with SQL… `);
      const model = await client.json<{ volume: Record<string, string> }>('GET', apiPath(`volumes/${ids[0]}`));
      const t0 = performance.now();
      ids.push(...await seeder(bodies.slice(viaApi), { host: model.volume['os-vol-host-attr:host']! }));
      seeded = { count: VOLUMES - viaApi, ms: performance.now() - t0 };
      process.stdout.write(`${seconds(seeded.ms)}\n`);
    }
    const counts = await client.json<{ count: number }>('GET', apiPath('volumes?with_count=true&limit=1'));
    const errored = await client.json<{ count: number }>('GET', apiPath('volumes?status=error&with_count=true&limit=1'));
    if (counts.count < VOLUMES) throw new Error(`expected ${VOLUMES} volumes, the API counts ${counts.count}`);
    if (errored.count > 0) throw new Error(`${errored.count} volumes went to error`);
    const afterLoad = measured.map((m) => m.sampler.current());

    // Sanity: the page really is 100 volumes with a next link.
    const page = await client.json<{ volumes: unknown[]; volumes_links?: unknown[] }>('GET', apiPath('volumes/detail?limit=100'));
    if (page.volumes.length !== 100 || !page.volumes_links) throw new Error(`detail page has ${page.volumes.length} volumes`);

    const loadOpts = { connections: CONNECTIONS, warmupMs: WARMUP_SECONDS * 1000, durationMs: SECONDS * 1000 };
    console.log(`  GET /volumes/detail?limit=100: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s…`);
    measured.forEach((m) => m.sampler.phase());
    let cpu0 = cpuMs();
    const detail = await phase(mode, 'detail', () => runLoad(client, { ...loadOpts, path: () => apiPath('volumes/detail?limit=100') }));
    const detailPeak = measured.map((m) => m.sampler.phase());
    const detailCpu = (cpuMs() - cpu0) / detail.sent;
    alive();

    console.log(`  GET /volumes/{id}: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s…`);
    let k = 0;
    const showIds = ids.slice();
    cpu0 = cpuMs();
    const show = await phase(mode, 'show', () => runLoad(client, {
      ...loadOpts,
      // A spread of ids, not one hot row: a stride through the loaded volumes.
      path: () => apiPath(`volumes/${showIds[(k = (k + 7919) % showIds.length)]}`),
    }));
    const showPeak = measured.map((m) => m.sampler.phase());
    const showCpu = (cpuMs() - cpu0) / show.sent;
    alive();

    console.log(`  create→available: ${CREATES} creates, one after another, polling GET /volumes/{id} without pause…`);
    const createToAvailable = await phase(mode, 'create', () => createUntilAvailable(client, CREATES));
    alive();

    return {
      mode, volumes: counts.count, viaApi, loadMs, allAvailableMs, loadCpuPerVolume, seeded,
      detail: { ...detail, cpuMsPerRequest: detailCpu }, show: { ...show, cpuMsPerRequest: showCpu }, createToAvailable,
      memory: measured.map((m, i) => ({
        label: m.label, afterLoadKib: afterLoad[i]!, detailPeakKib: detailPeak[i]!, showPeakKib: showPeak[i]!, hwmKib: m.sampler.hwm(),
      })),
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
    const { volume } = await client.json<{ volume: { id: string } }>('POST', apiPath('volumes'),
      { volume: { size: 1 + (i % 10), name: `bench-c2a-${i}` } }, 202);
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

function cairnEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CAIRN_DATA_DIR: dataDir, HOST: '127.0.0.1', LOG_LEVEL: 'warn', CAIRN_HOSTNAME: 'bench',
    DATABASE_URL: '', AMQP_URL: '', CAIRN_AMQP_PREFIX: 'cairn', ...extra,
  };
}

function nodeArgs(name: string): string[] {
  if (!CPU_PROF_DIR) return [];
  fs.mkdirSync(CPU_PROF_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}

function spawnCairn(name: string, args: string[], env: Record<string, string>): CairnProcess {
  const proc = new CairnProcess(name, args, env, nodeArgs(name));
  onCleanup(`stop ${name}`, () => proc.stop());
  return proc;
}

async function embedded(): Promise<ModeResult> {
  const label = 'embedded (PGlite + in-process)';
  console.log(`\nmode: ${label}`);
  const dataDir = makeTempDir('cairn-bench-');
  const env = cairnEnv(dataDir, { PORT: String(await freePort()) });
  // First start: cairn runs PGlite's initdb in a child process (src/db/pgliteInitdb.ts) and migrates.
  // Measured apart, as it happens once per data dir; the figures below are of a cairn started on an
  // existing one. The peak with the child is sampled (every 100 ms); cairn's own is the kernel's mark.
  const first = spawnCairn('all-in-one (first start)', ['all-in-one'], env);
  const firstSampler = new RssSampler(first.pid, 100, true).start();
  const firstStart = performance.now();
  await waitForHttp(first, `http://127.0.0.1:${env.PORT}`);
  const firstStartMs = performance.now() - firstStart;
  const firstStartKib = firstSampler.hwm();
  const firstTreeKib = firstSampler.treePeak();
  firstSampler.stop();
  await first.stop();
  const firstNote = `first start on an empty data dir (initdb + migrations): ${seconds(firstStartMs)}, peak RSS ${mib(firstStartKib)}` +
    ` (with the initdb child process: ${mib(firstTreeKib)})`;
  console.log(`  ${firstNote}`);

  const port = await freePort();
  const proc = spawnCairn('all-in-one', ['all-in-one'], { ...env, PORT: String(port) });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, origin);
  const result = await measure(label, origin, [proc], ['cairn all-in-one']);
  await proc.stop(); // on failure, cleanup stops it after its output is shown
  return { ...result, notes: [firstNote] };
}

/** Whether PostgreSQL and RabbitMQ answer within a couple of seconds. */
async function distributedAvailable(): Promise<string | undefined> {
  const timeout = <T>(p: Promise<T>, what: string) => Promise.race([
    p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in 3 s`)), 3000).unref()),
  ]);
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
  const label = 'distributed (PostgreSQL + RabbitMQ, cairn api + cairn worker)';
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
  const seeder: Seeder = (bodies, model) => seedVolumes(dbUrl.toString(), bodies, {
    projectId: PROJECT, userId: USER, host: model.host, backend: 'file', volumeDir: path.join(dataDir, 'volumes', 'file'),
  });
  const result = await measure(label, origin, [api, worker], [API_LABEL, 'cairn worker'],
    process.env.BENCH_PG_LOAD === 'api' ? undefined : seeder);
  await worker.stop();
  await api.stop();
  return result;
}

// --- report -------------------------------------------------------------------------

function report(r: ModeResult): void {
  const rate = (x: LoadResult) => `${x.requestsPerSecond.toFixed(0).padStart(6)} req/s`;
  const lat = (x: Measurement) => `p50 ${ms(x.p50Ms)}   p99 ${ms(x.p99Ms)}   (cairn CPU ${x.cpuMsPerRequest.toFixed(2)} ms/req)`;
  const errs = (x: LoadResult) => (x.errors ? `   (${x.errors} errors!)` : '');
  console.log(`\n  mode: ${r.mode}`);
  const perSecond = (n: number, msValue: number) => (n / (msValue / 1000)).toFixed(0);
  const api = `${r.viaApi === r.volumes ? 'loaded' : `${r.viaApi}`} via API in ${seconds(r.loadMs)}, ${perSecond(r.viaApi, r.loadMs)} creates/s;` +
    ` all available after ${seconds(r.allAvailableMs)}, ${perSecond(r.viaApi, r.allAvailableMs)} volumes/s,` +
    ` cairn CPU ${r.loadCpuPerVolume.toFixed(1)} ms/volume`;
  const sql = r.seeded ? `; ${r.seeded.count} inserted with SQL in ${seconds(r.seeded.ms)}` : '';
  console.log(`  volumes in DB: ${r.volumes} (${api}${sql})`);
  console.log(`  GET /volumes/detail?limit=100   ${rate(r.detail)}   ${lat(r.detail)}${errs(r.detail)}`);
  console.log(`  GET /volumes/{id}               ${rate(r.show)}   ${lat(r.show)}${errs(r.show)}`);
  console.log(`  create→available (n=${r.createToAvailable.length})${' '.repeat(Math.max(0, 9 - String(r.createToAvailable.length).length))}` +
    `median ${ms(median(r.createToAvailable))}   p99 ${ms(percentile(r.createToAvailable, 99))}`);
  for (const m of r.memory) {
    console.log(`  peak RSS ${m.label}: ${mib(m.hwmKib)} (after loading: ${mib(m.afterLoadKib)}, during detail: ${mib(m.detailPeakKib)},` +
      ` during show: ${mib(m.showPeakKib)})`);
  }
  for (const n of r.notes ?? []) console.log(`  ${n}`);
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(__dirname, '..', 'src', 'cli', 'cairn.js'))) throw new Error('build first: npm run build');
  console.log(`cairn benchmark: ${VOLUMES} volumes, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per endpoint,` +
    ` ${CREATES} creates; ${os.cpus().length} CPUs, node ${process.version}`);
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
  console.log('\n=== results ===');
  for (const r of results) report(r);
  for (const s of skipped) console.log(`\n  mode ${s}`);
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (err) => {
    // Interrupted: the signal handler is cleaning up and exits; what failed meanwhile is its doing.
    if (interrupted) return cleanup();
    console.error(`\nbenchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    for (const c of children) console.error(`--- ${c.name} output ---\n${c.tail()}`);
    return cleanup().then(() => process.exit(1));
  },
);
