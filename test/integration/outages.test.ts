/**
 * Outages of the shared servers, on real PostgreSQL + RabbitMQ with
 * separate processes (issue 13). The machine's RabbitMQ and PostgreSQL are
 * shared with other suites, so they are never stopped: the cairn processes
 * reach them through a TCP proxy of the test's own (ports 18131, 18132),
 * which the test cuts and restores.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { AMQP_URL, client, poll, Suite, type CairnProcess } from './support';
import { TcpProxy } from './tcpProxy';

const AMQP_PROXY_PORT = 18131;
const PG_PROXY_PORT = 18132;
const ENV = { CAIRN_TASK_LEASE_SECONDS: '2', CAIRN_HEARTBEAT_SECONDS: '2' };

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);
const proxies: TcpProxy[] = [];

beforeAll(async () => { suite = await Suite.create(ENV); }, 60_000);
afterAll(async () => {
  for (const p of proxies) await p.cut();
  await suite?.cleanup();
}, 60_000);
afterEach(async () => {
  await Promise.all(suite.procs.map((p) => p.kill('SIGKILL')));
  for (const p of proxies) await p.cut();
});

const diag = () => suite.output();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers of the load, by phase: what must hold is checked on them afterwards. */
interface Answer { phase: string; op: string; status: number; retryAfter: string | null; id?: string }

/**
 * Mixed load until `stop()`: volume creates, reads (show, list), and deletes of volumes made earlier.
 * Failures to connect count as status 0.
 */
async function liftQuotas(): Promise<void> {
  const { PROJECT } = await import('./support');
  const r = await http.put(`/os-quota-sets/${PROJECT}`, { quota_set: { volumes: -1, gigabytes: -1, snapshots: -1 } });
  expect(r.status).toBe(200);
}

function load(phase: () => string) {
  const answers: Answer[] = [];
  const made: string[] = [];
  const deleted = new Set<string>();
  let running = true;
  const one = async (op: string, f: () => Promise<{ status: number; body: any; headers: Headers }>, after?: (body: any) => void) => {
    const at = phase();
    try {
      const r = await f();
      answers.push({ phase: at, op, status: r.status, retryAfter: r.headers.get('retry-after'), id: r.body?.volume?.id });
      if (r.status < 300) after?.(r.body);
    } catch {
      answers.push({ phase: at, op, status: 0, retryAfter: null });
    }
  };
  const loop = (async () => {
    for (let i = 0; running; i++) {
      await Promise.all([
        one('create', () => http.post('/volumes', { volume: { size: 1, name: `load-${i}` } }), (b) => made.push(b.volume.id)),
        one('list', () => http.get('/volumes/detail?limit=5')),
        made.length > 4 && i % 3 === 0 ? one('delete', async () => {
          const id = made.shift()!;
          const r = await http.get(`/volumes/${id}`);
          if (r.body?.volume?.status !== 'available') { made.push(id); return r; }
          const d = await http.delete(`/volumes/${id}`);
          if (d.status === 202) deleted.add(id);
          return d;
        }) : Promise.resolve(),
      ]);
      await sleep(400);
    }
  })();
  return { answers, deleted, stop: async () => { running = false; await loop; } };
}

/** Every volume of the project settled: available or gone, none in a transitional status or error. */
async function settled(): Promise<void> {
  await poll('every volume settled', async () => {
    const { rows } = await suite.pool.query("SELECT status, count(*)::int AS n FROM volumes WHERE status <> 'deleted' GROUP BY status");
    return rows.every((r) => r.status === 'available');
  }, { timeoutMs: 90_000, diag: () => `${diag()}` });
}

test('RabbitMQ unreachable for 30 s under load: reads answer and writes are accepted throughout, all done once it returns; the worker stays', async () => {
  const proxy = new TcpProxy(AMQP_PROXY_PORT, { host: '127.0.0.1', port: Number(new URL(AMQP_URL).port || 5672) });
  proxies.push(proxy);
  await proxy.start();
  const viaProxy = new URL(AMQP_URL);
  viaProxy.port = String(AMQP_PROXY_PORT);
  const env = { AMQP_URL: viaProxy.toString() };
  api = await suite.startApi({ env });
  const worker = await suite.startWorker({ env });
  await liftQuotas();
  let phase = 'before';
  const l = load(() => phase);
  await sleep(3_000);

  await proxy.cut();
  phase = 'outage';
  await poll('the API reporting degraded', async () => /^DEGRADED/.test(await (await fetch(`${api.url}/healthcheck`)).text()), { diag });
  // A second API starts while the broker is unreachable (and serves).
  const second = await suite.startApi({ env });
  expect((await fetch(`${second.url}/healthcheck`).then((r) => r.text()))).toMatch(/^DEGRADED: the AMQP broker is unreachable/);
  await sleep(27_000);
  phase = 'after';
  await proxy.start();
  await sleep(3_000);
  await l.stop();
  await poll('the API healthy again', async () => (await (await fetch(`${api.url}/healthcheck`)).text()) === 'OK', { timeoutMs: 30_000, diag });

  await settled();
  const during = l.answers.filter((a) => a.phase === 'outage');
  expect(during.filter((a) => a.op === 'create').length).toBeGreaterThan(10);
  expect(during.filter((a) => a.op === 'list').length).toBeGreaterThan(10);
  // Every answer a success: 202 for creates and deletes, 200 for reads, during the outage as before and after.
  expect(l.answers.filter((a) => ![200, 202].includes(a.status))).toEqual([]);
  // Every accepted create ended available (or deleted by the load), each with its one file and one done task.
  const accepted = l.answers.filter((a) => a.op === 'create').map((a) => a.id!);
  const { rows } = await suite.pool.query("SELECT id, status FROM volumes WHERE id = ANY($1) AND status <> 'deleted'", [accepted]);
  expect(rows.filter((r) => r.status !== 'available')).toEqual([]);
  expect(rows.length + l.deleted.size).toBe(accepted.length);
  expect(rows.filter((r) => l.deleted.has(r.id))).toEqual([]);
  const { rows: tasks } = await suite.pool.query(
    "SELECT resource_id, state FROM tasks WHERE kind = 'volume.create' AND resource_id = ANY($1)", [accepted]);
  expect(tasks.length).toBe(accepted.length);
  expect(tasks.filter((t) => t.state !== 'done')).toEqual([]);
  for (const r of rows.filter((x) => x.status === 'available')) expect(fs.existsSync(suite.volumeFile(r.id))).toBe(true);
  // The worker rode it out: the same process, reconnected.
  expect(worker.running).toBe(true);
  expect(worker.output()).not.toMatch(/exiting/);
}, 180_000);
