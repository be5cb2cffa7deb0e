/**
 * Property-based fuzzing of the three APIs (test/helpers/fuzz.ts): every
 * operation of api-spec/openapi.yaml, compute.yaml and image.yaml, with
 * generated and mutated bodies, query strings, headers and path ids.
 * Asserts: no 500 (the one 5xx cairn answers on purpose is 501, Cinder's
 * notImplemented), Cinder's/Nova's/Glance's error shape on every 4xx, no
 * SQL in any answer, and that a refused request changed nothing in the
 * database. Seeded (FUZZ_SEED; printed), FUZZ_RUNS requests (5,000 by
 * default; `npm run test:fuzz:long` sends 50,000).
 *
 * Cost: every refused mutating request is compared with the database by
 * one aggregate query (per table a row count and an order-free sum of row
 * hashes); the picture a refusal leaves is the next one's "before", so a
 * comparison costs one query. Requests go over one kept-alive connection
 * through node's HTTP client. The closing line says where the time went;
 * FUZZ_PROFILE=1 adds the slowest operations.
 */
import http from 'node:http';
import fc from 'fast-check';
import { PROJECT, TOKEN, liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { errorShapeProblem, operations, requestArb, SQL_IN_TEXT, type FuzzRequest } from '../helpers/fuzz';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
/** Every how many-th mutating request is compared with the database (every one by default). */
const COMPARE_EVERY = Number(process.env.FUZZ_COMPARE_EVERY ?? 1);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
jest.setTimeout(Number(process.env.FUZZ_TIMEOUT_MS ?? Math.max(240_000, RUNS * 60)));

let cairn: TestCairn;
const ids: string[] = [];
const H = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70', 'Content-Type': 'application/json', Accept: 'application/json' };

/** One keep-alive connection through node's HTTP client (the real HTTP stack both ways; half of fetch's cost per request). */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function send(
  method: string,
  p: string,
  headers: Record<string, string>,
  body?: string,
  retried = false,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    // The URL as fetch (and a client's URL parser) would send it: characters a request target may not hold percent-encoded.
    const u = new URL(p, cairn.url);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        agent,
        // Framed as fetch frames it: node's client sends a DELETE's body without a length otherwise.
        headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in 30 s: ${method} ${p.slice(0, 200)}`)));
    // A kept-alive socket the server closed as the request went out: sent again once, on a fresh one (node's documented pattern).
    req.on('error', (e: NodeJS.ErrnoException) =>
      req.reusedSocket && e.code === 'ECONNRESET' && !retried ? send(method, p, headers, body, true).then(resolve, reject) : reject(e),
    );
    req.end(body);
  });
}

async function json(method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(cairn.url + p, { method, headers: H, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json().catch(() => undefined);
}

beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  const v3 = `/v3/${PROJECT}`;
  const type = (await json('POST', `${v3}/types`, { volume_type: { name: 'fuzz', extra_specs: { multiattach: '<is> True' } } }))
    .volume_type;
  const vol = (await json('POST', `${v3}/volumes`, { volume: { size: 1, name: 'fuzz' } })).volume;
  await waitFor(async () => (await json('GET', `${v3}/volumes/${vol.id}`)).volume.status === 'available', 20_000, 'volume');
  const snap = (await json('POST', `${v3}/snapshots`, { snapshot: { volume_id: vol.id, name: 'fuzz' } })).snapshot;
  const qos = (await json('POST', `${v3}/qos-specs`, { qos_specs: { name: 'fuzz' } })).qos_specs;
  const gtype = (await json('POST', `${v3}/group_types`, { group_type: { name: 'fuzz' } })).group_type;
  const image = await json('POST', '/v2/images', { name: 'fuzz', disk_format: 'raw', container_format: 'bare' });
  await preparePicture();
  ids.push(PROJECT, vol.id, snap.id, type.id, qos.id, gtype.id, image.id, 'multiattach', 'volumes', 'm1.tiny', '1');
}, 120_000);
afterAll(async () => {
  agent.destroy();
  await cairn?.stop();
});

/** Tables a request may write, read from the catalog (so a table added later is covered); services and the
 * task queue carry clocks the workers move on their own, and the task count stands for the queue. */
let pictureSql = '';
const VOLATILE = "ARRAY['updated_at','lease_until','touched_at','heartbeat_at','last_seen_at']";
async function preparePicture(): Promise<void> {
  const tables: string[] = (
    await cairn.db.raw(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' " +
        "AND table_name NOT LIKE 'knex_%' AND table_name NOT IN ('tasks', 'services') ORDER BY table_name",
    )
  ).rows.map((r: any) => r.table_name);
  // One aggregate query: per table its row count and an order-free sum of row hashes (less the clocks): no sort, no
  // concatenation, so it costs a scan of tables that hold a few hundred rows.
  const parts = tables.map(
    (t) => `(SELECT count(*) || ':' || coalesce(sum(hashtext((to_jsonb(x) - ${VOLATILE})::text)::bigint), 0) FROM "${t}" x) AS "${t}"`,
  );
  pictureSql =
    `SELECT ${parts.join(', ')}, (SELECT count(*) FROM tasks) AS tasks, ` +
    "(SELECT count(*) FROM tasks WHERE state IN ('pending', 'running')) AS busy";
}
/** The picture (a JSON string) and whether tasks run (the workers write then, refused request or not). */
async function picture(): Promise<{ pic: string; busy: boolean }> {
  const t0 = performance.now();
  const { busy, ...row } = (await cairn.db.raw(pictureSql)).rows[0];
  time.picture += performance.now() - t0;
  time.pictures++;
  return { pic: JSON.stringify(row), busy: Number(busy) > 0 };
}
/** A picture taken once no task runs (up to 3 s), or undefined. */
async function settled(): Promise<string | undefined> {
  const t0 = performance.now();
  const p = await waitFor(
    async () => {
      const q = await picture();
      return q.busy ? undefined : q;
    },
    3000,
    'tasks to settle',
  ).catch(() => undefined);
  time.settle += performance.now() - t0;
  return p?.pic;
}
const prof: Record<string, [number, number]> = {};
const time = { send: 0, picture: 0, pictures: 0, settle: 0 };

/** Cinder's QoS associations are GETs that change state (api-spec/openapi.yaml): one that succeeds moves the picture too. */
const STATE_CHANGING_GETS = /^\/qos-specs\/\{[^}]+\}\/(associate|disassociate|disassociate_all)$/;

const diff = (a: string, b: string) => {
  const x = JSON.parse(a);
  const y = JSON.parse(b);
  return Object.keys(x).filter((k) => x[k] !== y[k]);
};

it(`sends ${RUNS} generated requests: no 500, the APIs' error shapes, no SQL, refusals change nothing`, async () => {
  process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} requests (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} to replay)\n`);
  const started = performance.now();
  const ops = operations();
  const stats = { sent: 0, byClass: {} as Record<string, number>, compared: 0, status501: 0, ops: new Set<string>() };
  /** The database as the last refused (or first) request left it; a mutating request that succeeds invalidates it. */
  let last: string | undefined;
  let mutations = 0;
  const check = async (r: FuzzRequest) => {
    const mutating = r.method !== 'GET' || STATE_CHANGING_GETS.test(r.op.template);
    let before: string | undefined;
    if (mutating && ++mutations % COMPARE_EVERY === 0) before = last ??= await settled();
    const t0 = performance.now();
    const res = await send(r.method, r.url, r.headers, r.body);
    const text = res.text;
    time.send += performance.now() - t0;
    if (process.env.FUZZ_PROFILE) {
      const k = `${r.op.method} ${r.op.template}`;
      const e = (prof[k] ??= [0, 0]);
      e[0]++;
      e[1] += performance.now() - t0;
    }
    stats.sent++;
    stats.ops.add(`${r.op.method} ${r.op.template}`);
    const cls = `${Math.floor(res.status / 100)}xx`;
    stats.byClass[cls] = (stats.byClass[cls] ?? 0) + 1;
    const where = `${r.method} ${r.url.slice(0, 200)} ${r.body?.slice(0, 200) ?? ''}`;
    if (res.status === 501) stats.status501++;
    if (res.status >= 500 && res.status !== 501) throw new Error(`${res.status} for ${where}: ${text.slice(0, 300)}`);
    if (SQL_IN_TEXT.test(text) && res.status >= 400) throw new Error(`SQL in the answer to ${where}: ${text.slice(0, 300)}`);
    if (res.status >= 400 && res.status < 500) {
      const problem = errorShapeProblem(r.op.api, res.status, res.type, text, r.headers.Accept!);
      if (problem) throw new Error(`${res.status} for ${where}: ${problem}`);
      if (before !== undefined) {
        const after = await picture();
        if (after.pic !== before) {
          // Only a running task (a worker writing) excuses a difference; the next comparison starts afresh.
          if (!after.busy)
            throw new Error(`refused ${res.status} but changed ${diff(before, after.pic).join(', ')}: ${where}: ${text.slice(0, 200)}`);
          last = undefined;
        } else stats.compared++;
      }
    } else if (mutating) last = undefined;
  };
  await fc.assert(fc.asyncProperty(requestArb(ops, { project: PROJECT, token: TOKEN, ids }), check), {
    seed: SEED,
    numRuns: RUNS,
    endOnFailure: true,
  });
  process.stdout.write(
    `fuzz: seed ${SEED}: ${stats.sent} requests over ${stats.ops.size} of ${ops.length} operations; ` +
      `${JSON.stringify(stats.byClass)}; 501s ${stats.status501}; refusals compared with the database ${stats.compared}; ` +
      `ms: sending ${Math.round(time.send)}, ${time.pictures} pictures ${Math.round(time.picture)}, waiting for tasks ${Math.round(time.settle)}; wall ${Math.round(performance.now() - started)}\n`,
  );
  if (process.env.FUZZ_PROFILE)
    process.stdout.write(
      Object.entries(prof)
        .sort((a, b) => b[1][1] - a[1][1])
        .slice(0, 25)
        .map(([k, [n, t]]) => `${Math.round(t)} ms ${n} ${k}`)
        .join('\n') + '\n',
    );
  expect(stats.sent).toBe(RUNS);
  expect(stats.compared).toBeGreaterThan(0);
});
