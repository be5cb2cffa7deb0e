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

beforeAll(async () => {
  suite = await Suite.create(ENV);
}, 60_000);
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
interface Answer {
  phase: string;
  op: string;
  status: number;
  retryAfter: string | null;
  id?: string;
}

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
        one(
          'create',
          () => http.post('/volumes', { volume: { size: 1, name: `load-${i}` } }),
          (b) => made.push(b.volume.id),
        ),
        one('list', () => http.get('/volumes/detail?limit=5')),
        made.length > 4 && i % 3 === 0
          ? one('delete', async () => {
              const id = made.shift()!;
              const r = await http.get(`/volumes/${id}`);
              if (r.body?.volume?.status !== 'available') {
                made.push(id);
                return r;
              }
              const d = await http.delete(`/volumes/${id}`);
              if (d.status === 202) deleted.add(id);
              return d;
            })
          : Promise.resolve(),
      ]);
      await sleep(400);
    }
  })();
  return {
    answers,
    deleted,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Every volume of the project settled: available or gone, none in a transitional status or error. */
async function settled(): Promise<void> {
  await poll(
    'every volume settled',
    async () => {
      const { rows } = await suite.pool.query("SELECT status, count(*)::int AS n FROM volumes WHERE status <> 'deleted' GROUP BY status");
      return rows.every((r) => r.status === 'available');
    },
    { timeoutMs: 90_000, diag: () => `${diag()}` },
  );
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
  await poll('the API reporting degraded', async () => /^transport degraded/.test(await (await fetch(`${api.url}/healthcheck`)).text()), {
    diag,
  });
  // A second API starts while the broker is unreachable (and serves).
  const second = await suite.startApi({ env });
  expect(await fetch(`${second.url}/healthcheck`).then((r) => r.text())).toMatch(/^transport degraded: the AMQP broker is unreachable/);
  await sleep(27_000);
  phase = 'after';
  await proxy.start();
  await sleep(3_000);
  await l.stop();
  await poll('the API healthy again', async () => (await (await fetch(`${api.url}/healthcheck`)).text()) === 'OK', {
    timeoutMs: 30_000,
    diag,
  });

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
    "SELECT resource_id, state FROM tasks WHERE kind = 'volume.create' AND resource_id = ANY($1)",
    [accepted],
  );
  expect(tasks.length).toBe(accepted.length);
  expect(tasks.filter((t) => t.state !== 'done')).toEqual([]);
  for (const r of rows.filter((x) => x.status === 'available')) expect(fs.existsSync(suite.volumeFile(r.id))).toBe(true);
  // The worker rode it out: the same process, reconnected.
  expect(worker.running).toBe(true);
  expect(worker.output()).not.toMatch(/exiting/);
}, 180_000);

test('PostgreSQL unreachable for 15 s under load: no 500 (503 with Retry-After), nothing done twice, nothing stuck, quota verify and reconcile clean', async () => {
  const proxy = new TcpProxy(PG_PROXY_PORT, { host: '127.0.0.1', port: Number(new URL(suite.databaseUrl).port || 5432) });
  proxies.push(proxy);
  await proxy.start();
  const viaProxy = new URL(suite.databaseUrl);
  viaProxy.port = String(PG_PROXY_PORT);
  const env = { DATABASE_URL: viaProxy.toString() };
  api = await suite.startApi({ env });
  const worker = await suite.startWorker({ env });
  await liftQuotas();
  let phase = 'before';
  const l = load(() => phase);
  // Attaches too (answered only once the worker connected them): one whose outcome the outage hides is "accepted".
  const attaches: Answer[] = [];
  let attaching = true;
  const attachLoop = (async () => {
    while (attaching) {
      const { rows } = await suite.pool.query(
        "SELECT id FROM volumes WHERE status = 'available' AND id NOT IN (SELECT volume_id FROM volume_attachments) ORDER BY created_at DESC LIMIT 1",
      );
      if (rows[0]) {
        const at = phase;
        const r = await http
          .post('/attachments', {
            attachment: { volume_uuid: rows[0].id, instance_uuid: randomUUID(), connector: { host: 'h1', mountpoint: '/dev/vdb' } },
          })
          .catch(() => ({ status: 0, headers: new Headers() }));
        attaches.push({ phase: at, op: 'attach', status: r.status, retryAfter: r.headers.get('retry-after') });
      }
      await sleep(500);
    }
  })();
  await sleep(4_000);

  await proxy.cut();
  phase = 'outage';
  await sleep(15_000);
  phase = 'after';
  await proxy.start();
  await sleep(4_000);
  attaching = false;
  await Promise.all([l.stop(), attachLoop]);

  const answers = [...l.answers, ...attaches];
  // Never a 500 nor a dropped connection: a success, a refusal of the load's own making, or a 503 with Retry-After.
  expect(answers.filter((a) => a.status === 0 || (a.status >= 500 && a.status !== 503))).toEqual([]);
  expect(answers.filter((a) => a.status === 503 && !a.retryAfter)).toEqual([]);
  expect(answers.filter((a) => a.phase === 'outage' && a.status === 503).length).toBeGreaterThan(0);
  expect(answers.filter((a) => a.phase === 'after' && a.status < 300).length).toBeGreaterThan(0);
  expect(attaches.filter((a) => a.status < 300).length).toBeGreaterThan(0);

  // A connected attachment leaves its volume attaching until the host says it attached (os-complete), as Cinder's.
  await poll(
    'the attach tasks finished',
    async () =>
      (await suite.pool.query("SELECT 1 FROM tasks WHERE kind = 'volume.attach' AND state IN ('pending', 'running')")).rows.length === 0,
    { timeoutMs: 60_000 },
  );
  const { rows: connected } = await suite.pool.query(
    "SELECT a.id FROM volume_attachments a JOIN volumes v ON v.id = a.volume_id WHERE v.status = 'attaching'",
  );
  for (const a of connected) expect((await http.post(`/attachments/${a.id}/action`, { 'os-complete': null })).status).toBe(204);

  // Nothing stuck: every volume available or in-use, every task finished, none failed.
  await poll(
    'every volume and task settled',
    async () => {
      const { rows } = await suite.pool.query("SELECT status FROM volumes WHERE status NOT IN ('available', 'in-use', 'deleted')");
      const { rows: open } = await suite.pool.query("SELECT id FROM tasks WHERE state IN ('pending', 'running')");
      return rows.length === 0 && open.length === 0;
    },
    {
      timeoutMs: 90_000,
      diag: () =>
        diag()
          .split('\n')
          .filter((line) => !/ECONNREFUSED|Connection ended|Acquire connection/.test(line))
          .join('\n'),
    },
  ).catch(async (err) => {
    const { rows } = await suite.pool.query("SELECT id, status FROM volumes WHERE status NOT IN ('available', 'in-use', 'deleted')");
    const { rows: open } = await suite.pool.query(
      "SELECT kind, state, attempts, lapses, last_error, resource_id FROM tasks WHERE state IN ('pending', 'running')",
    );
    throw new Error(`${JSON.stringify({ rows, open })}\n${(err as Error).message}`);
  });
  const { rows: failed } = await suite.pool.query("SELECT kind, last_error FROM tasks WHERE state = 'failed'");
  expect(failed).toEqual([]);
  // Nothing done twice: one create task per volume, one file per live volume, no leftovers.
  const { rows: twice } = await suite.pool.query(
    "SELECT resource_id FROM tasks WHERE kind = 'volume.create' GROUP BY resource_id HAVING count(*) > 1",
  );
  expect(twice).toEqual([]);
  const { rows: live } = await suite.pool.query("SELECT id, provider_location FROM volumes WHERE status <> 'deleted'");
  for (const v of live) expect(fs.existsSync(v.provider_location)).toBe(true);
  const { rows: atts } = await suite.pool.query("SELECT attach_status FROM volume_attachments WHERE attach_status <> 'attached'");
  expect(atts).toEqual([]);

  const verify = await suite.manage('quota', 'verify');
  expect(`exit ${verify.code}\n${verify.stdout}${verify.stderr}`).toMatch(/^exit 0\n/);
  // Reconcile: nothing missing, moved or orphaned. The attach load's instances are no Nova servers of cairn's, so
  // their folders (holding their volumes) are reported as folders of unknown servers, and only those.
  const reconcile = await suite.manage('reconcile', '--json');
  const instances = new Set(
    (await suite.pool.query('SELECT DISTINCT instance_uuid FROM volume_attachments')).rows.map((r) => r.instance_uuid),
  );
  const report = JSON.parse(reconcile.stdout) as Array<{ backend: string; differences: Array<{ kind: string; id: string }> }>;
  expect(
    report.map((b) => ({ ...b, differences: b.differences.filter((d) => !(d.kind === 'stale_server_folder' && instances.has(d.id))) })),
  ).toEqual([{ backend: 'file', differences: [] }]);
  expect(worker.running).toBe(true);
  expect(api.running).toBe(true);
}, 180_000);
