/**
 * Quota enforcement where the race is real: `cairn api` on a pg pool (10
 * connections, so creates run truly concurrently) with a separate worker,
 * on PostgreSQL + RabbitMQ. Usage is summed from the volume rows under the
 * project's advisory lock; `cairn-manage quota verify` recounts afterwards.
 */
import { randomBytes } from 'node:crypto';
import { client, poll, PROJECT, Suite, type CairnProcess } from './support';

let suite: Suite;
let api: CairnProcess;
let worker: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  // Short leases: tasks a SIGKILLed worker held are offered again within seconds.
  suite = await Suite.create({ CAIRN_TASK_LEASE_SECONDS: '5' });
  api = await suite.startApi();
  worker = await suite.startWorker();
}, 60_000);

afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

async function setQuota(values: Record<string, number>): Promise<void> {
  const res = await http.put(`/os-quota-sets/${PROJECT}`, { quota_set: values });
  expect(res.status).toBe(200);
}

async function verify(): Promise<{ code: number; stdout: string }> {
  const res = await suite.manage('quota', 'verify', '--project', PROJECT);
  return { code: res.code, stdout: res.stdout + res.stderr };
}

test('200 concurrent creates against a quota of 50: exactly 50 are accepted, 150 get 413, verify finds nothing wrong', async () => {
  await setQuota({ volumes: 50, gigabytes: 1000 });
  const results = await Promise.all(Array.from({ length: 200 }, () => http.post('/volumes', { volume: { size: 1 } })));
  const by = (s: number) => results.filter((r) => r.status === s);
  expect({ accepted: by(202).length, over: by(413).length, other: results.length - by(202).length - by(413).length })
    .toEqual({ accepted: 50, over: 150, other: 0 });
  expect(by(413)[0]!.body).toEqual({ overLimit: { code: 413, retryAfter: '0',
    message: "VolumeLimitExceeded: Maximum number of volumes allowed (50) exceeded for quota 'volumes'." } });
  expect(by(413)[0]!.headers.get('retry-after')).toBe('0');
  const { rows } = await suite.pool.query('SELECT count(*)::int AS n FROM volumes WHERE project_id = $1', [PROJECT]);
  expect(rows[0].n).toBe(50);
  const v = await verify();
  expect(v).toMatchObject({ code: 0 });
  expect(v.stdout).toMatch(/^OK: 1 project\(s\)/m);
}, 120_000);

test('a random mix of creates and deletes, with the worker SIGKILLed and restarted, stays within the limit and verify agrees', async () => {
  // Start from the 50 volumes above: wait until the worker made them, then allow 60 volumes and 70 GiB.
  await poll('the first 50 volumes to be available', async () => {
    const { rows } = await suite.pool.query("SELECT count(*)::int AS n FROM volumes WHERE project_id = $1 AND status <> 'available'", [PROJECT]);
    return rows[0].n === 0;
  }, { timeoutMs: 60_000, diag: () => suite.output() });
  await setQuota({ volumes: 60, gigabytes: 70 });
  const ids: string[] = (await http.get('/volumes')).body.volumes.map((v: any) => v.id);
  const rnd = () => randomBytes(1)[0]! / 256;
  let killed = false;
  const ops: Array<Promise<number>> = [];
  for (let i = 0; i < 120; i++) {
    if (i === 40) { killed = true; await worker.kill('SIGKILL'); }
    if (i === 80) { worker = await suite.startWorker(); }
    if (rnd() < 0.3 && ids.length) {
      const id = ids.splice(Math.floor(rnd() * ids.length), 1)[0]!;
      ops.push(http.delete(`/volumes/${id}`).then((r) => r.status));
    } else {
      ops.push(http.post('/volumes', { volume: { size: 1 + Math.floor(rnd() * 3) } }).then((r) => {
        if (r.status === 202) ids.push(r.body.volume.id);
        return r.status;
      }));
    }
  }
  const statuses = await Promise.all(ops);
  expect(killed).toBe(true);
  expect(statuses.filter((s) => ![202, 400, 413].includes(s))).toEqual([]);
  // While deletes are still in flight and after they finish, the limit holds and verify agrees.
  const check = async () => {
    const { rows } = await suite.pool.query('SELECT count(*)::int AS n, coalesce(sum(size), 0)::int AS gb FROM volumes WHERE project_id = $1', [PROJECT]);
    expect(rows[0].n).toBeLessThanOrEqual(60);
    expect(rows[0].gb).toBeLessThanOrEqual(70);
    const v = await verify();
    expect(v.code).toBe(0);
  };
  await check();
  await poll('every delete to finish and every create to settle', async () => {
    const { rows } = await suite.pool.query(
      "SELECT count(*)::int AS n FROM volumes WHERE project_id = $1 AND status NOT IN ('available', 'error')", [PROJECT]);
    return rows[0].n === 0;
  }, { timeoutMs: 90_000, diag: () => suite.output() });
  await check();
  const usage = (await http.get(`/os-quota-sets/${PROJECT}?usage=True`)).body.quota_set;
  const { rows } = await suite.pool.query('SELECT count(*)::int AS n, coalesce(sum(size), 0)::int AS gb FROM volumes WHERE project_id = $1', [PROJECT]);
  expect([usage.volumes.in_use, usage.gigabytes.in_use]).toEqual([rows[0].n, rows[0].gb]);
}, 240_000);
