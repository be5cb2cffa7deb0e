/**
 * Property-based fuzzing of the three APIs (test/helpers/fuzz.ts): every
 * operation of api-spec/openapi.yaml, compute.yaml and image.yaml, with
 * generated and mutated bodies, query strings, headers and path ids.
 * Asserts: no 500 (the one 5xx cairn answers on purpose is 501, Cinder's
 * notImplemented), Cinder's/Nova's/Glance's error shape on every 4xx, no
 * SQL in any answer, and that a refused request changed nothing in the
 * database. Seeded (FUZZ_SEED; printed), FUZZ_RUNS requests (5,000 by
 * default; `npm run test:fuzz:long` sends 50,000).
 */
import fc from 'fast-check';
import { PROJECT, TOKEN, liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { errorShapeProblem, operations, requestArb, SQL_IN_TEXT, type FuzzRequest } from '../helpers/fuzz';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
/** Every how many-th mutating request is compared with the database (the picture is the run's main cost). */
const COMPARE_EVERY = Number(process.env.FUZZ_COMPARE_EVERY ?? 5);
const SEED = Number(process.env.FUZZ_SEED ?? (Date.now() % 2 ** 31));
jest.setTimeout(Number(process.env.FUZZ_TIMEOUT_MS ?? Math.max(240_000, RUNS * 60)));

let cairn: TestCairn;
const ids: string[] = [];
const H = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70', 'Content-Type': 'application/json', Accept: 'application/json' };

async function json(method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(cairn.url + p, { method, headers: H, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json().catch(() => undefined);
}

beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  const v3 = `/v3/${PROJECT}`;
  const type = (await json('POST', `${v3}/types`, { volume_type: { name: 'fuzz', extra_specs: { multiattach: '<is> True' } } })).volume_type;
  const vol = (await json('POST', `${v3}/volumes`, { volume: { size: 1, name: 'fuzz' } })).volume;
  await waitFor(async () => (await json('GET', `${v3}/volumes/${vol.id}`)).volume.status === 'available', 20_000, 'volume');
  const snap = (await json('POST', `${v3}/snapshots`, { snapshot: { volume_id: vol.id, name: 'fuzz' } })).snapshot;
  const qos = (await json('POST', `${v3}/qos-specs`, { qos_specs: { name: 'fuzz' } })).qos_specs;
  const gtype = (await json('POST', `${v3}/group_types`, { group_type: { name: 'fuzz' } })).group_type;
  const image = await json('POST', '/v2/images', { name: 'fuzz', disk_format: 'raw', container_format: 'bare' });
  ids.push(PROJECT, vol.id, snap.id, type.id, qos.id, gtype.id, image.id, 'multiattach', 'volumes', 'm1.tiny', '1');
}, 120_000);
afterAll(async () => { await cairn?.stop(); });

const TABLES = ['volumes', 'snapshots', 'volume_attachments', 'volume_types', 'volume_type_extra_specs', 'volume_type_projects',
  'volume_type_encryption', 'images', 'messages', 'qos_specs', 'quotas', 'quota_classes', 'transfers', 'groups', 'group_types',
  'group_type_specs', 'group_snapshots', 'group_volume_types', 'servers', 'block_device_mappings'];
const VOLATILE = "ARRAY['updated_at','lease_until','touched_at','heartbeat_at','last_seen_at']";

/** A cheap picture of the database: every table's rows (less their clocks) hashed, and the task count. */
async function picture(): Promise<string> {
  const parts = TABLES.map((t) => `(SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(x) - ${VOLATILE})::text, '|' ORDER BY (to_jsonb(x) - ${VOLATILE})::text)), '') FROM ${t} x) AS ${t}`);
  const row = (await cairn.db.raw(`SELECT ${parts.join(', ')}, (SELECT count(*) FROM tasks) AS tasks`)).rows[0];
  return JSON.stringify(row);
}
const busy = async () => Number((await cairn.db('tasks').whereIn('state', ['pending', 'running']).count({ n: '*' }))[0]!.n) > 0;

const diff = (a: string, b: string) => {
  const x = JSON.parse(a); const y = JSON.parse(b);
  return Object.keys(x).filter((k) => x[k] !== y[k]);
};

it(`sends ${RUNS} generated requests: no 500, the APIs' error shapes, no SQL, refusals change nothing`, async () => {
  process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} requests (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} to replay)\n`);
  const ops = operations();
  const stats = { sent: 0, byClass: {} as Record<string, number>, compared: 0, status501: 0, ops: new Set<string>() };
  let mutations = 0;
  const check = async (r: FuzzRequest) => {
    const mutating = r.method !== 'GET';
    let before: string | undefined;
    if (mutating && ++mutations % COMPARE_EVERY === 0) {
      if (await busy()) await waitFor(async () => !await busy(), 3000, 'tasks to settle').catch(() => undefined);
      before = (await busy()) ? undefined : await picture();
    }
    const res = await fetch(cairn.url + r.url, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    stats.sent++;
    stats.ops.add(`${r.op.method} ${r.op.template}`);
    const cls = `${Math.floor(res.status / 100)}xx`;
    stats.byClass[cls] = (stats.byClass[cls] ?? 0) + 1;
    const where = `${r.method} ${r.url.slice(0, 200)} ${r.body?.slice(0, 200) ?? ''}`;
    if (res.status === 501) stats.status501++;
    if (res.status >= 500 && res.status !== 501) throw new Error(`${res.status} for ${where}: ${text.slice(0, 300)}`);
    if (SQL_IN_TEXT.test(text) && res.status >= 400) throw new Error(`SQL in the answer to ${where}: ${text.slice(0, 300)}`);
    if (res.status >= 400 && res.status < 500) {
      const problem = errorShapeProblem(r.op.api, res.status, res.headers.get('content-type') ?? '', text, r.headers.Accept!);
      if (problem) throw new Error(`${res.status} for ${where}: ${problem}`);
      if (before !== undefined) {
        const after = await picture();
        if (after !== before && !await busy()) throw new Error(`refused ${res.status} but changed ${diff(before, after).join(', ')}: ${where}: ${text.slice(0, 200)}`);
        stats.compared++;
      }
    }
  };
  await fc.assert(fc.asyncProperty(requestArb(ops, { project: PROJECT, token: TOKEN, ids }), check),
    { seed: SEED, numRuns: RUNS, endOnFailure: true });
  process.stdout.write(`fuzz: seed ${SEED}: ${stats.sent} requests over ${stats.ops.size} of ${ops.length} operations; ` +
    `${JSON.stringify(stats.byClass)}; 501s ${stats.status501}; refusals compared with the database ${stats.compared}\n`);
  expect(stats.sent).toBe(RUNS);
  expect(stats.compared).toBeGreaterThan(0);
});
