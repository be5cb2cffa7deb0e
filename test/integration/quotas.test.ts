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
  expect({ accepted: by(202).length, over: by(413).length, other: results.length - by(202).length - by(413).length }).toEqual({
    accepted: 50,
    over: 150,
    other: 0,
  });
  expect(by(413)[0]!.body).toEqual({
    overLimit: {
      code: 413,
      retryAfter: '0',
      message: "VolumeLimitExceeded: Maximum number of volumes allowed (50) exceeded for quota 'volumes'.",
    },
  });
  expect(by(413)[0]!.headers.get('retry-after')).toBe('0');
  const { rows } = await suite.pool.query('SELECT count(*)::int AS n FROM volumes WHERE project_id = $1', [PROJECT]);
  expect(rows[0].n).toBe(50);
  const v = await verify();
  expect(v).toMatchObject({ code: 0 });
  expect(v.stdout).toMatch(/^OK: 1 project\(s\)/m);
}, 120_000);

test('a random mix of creates, extends, snapshots and deletes, with the worker SIGKILLed and restarted, stays within the limits and verify agrees', async () => {
  // Start from the 50 volumes above: wait until the worker made them, then allow 60 volumes, 30 snapshots and 90 GiB.
  await poll(
    'the first 50 volumes to be available',
    async () => {
      const { rows } = await suite.pool.query("SELECT count(*)::int AS n FROM volumes WHERE project_id = $1 AND status <> 'available'", [
        PROJECT,
      ]);
      return rows[0].n === 0;
    },
    { timeoutMs: 60_000, diag: () => suite.output() },
  );
  await setQuota({ volumes: 60, gigabytes: 90, snapshots: 30 });
  const volumes: string[] = (await http.get('/volumes')).body.volumes.map((v: any) => v.id);
  const snapshots: string[] = [];
  const rnd = () => randomBytes(1)[0]! / 256;
  const pick = (list: string[]) => list[Math.floor(rnd() * list.length)]!;
  const ops: Array<Promise<number>> = [];
  const kinds: Record<string, number> = {};
  const accepted: Record<string, number> = {};
  const track = (kind: string, p: Promise<number>) =>
    ops.push(
      p.then((status) => {
        if (status === 202) accepted[kind] = (accepted[kind] ?? 0) + 1;
        return status;
      }),
    );
  const fire = (kind: string): Promise<number> | undefined => {
    if (kind === 'create') {
      return http.post('/volumes', { volume: { size: 1 + Math.floor(rnd() * 2) } }).then((res) => {
        if (res.status === 202) volumes.push(res.body.volume.id);
        return res.status;
      });
    } else if (kind === 'delete' && volumes.length) {
      const id = volumes.splice(Math.floor(rnd() * volumes.length), 1)[0]!;
      return http.delete(`/volumes/${id}`).then((res) => res.status);
    } else if (kind === 'extend' && volumes.length) {
      const id = pick(volumes);
      return http
        .get(`/volumes/${id}`)
        .then((v) =>
          v.status === 200
            ? http.post(`/volumes/${id}/action`, { 'os-extend': { new_size: v.body.volume.size + 1 } }).then((res) => res.status)
            : v.status,
        );
    } else if (kind === 'snapshot' && volumes.length) {
      return http.post('/snapshots', { snapshot: { volume_id: pick(volumes), force: true } }).then((res) => {
        if (res.status === 202) snapshots.push(res.body.snapshot.id);
        return res.status;
      });
    } else if (kind === 'unsnapshot' && snapshots.length) {
      const id = snapshots.splice(Math.floor(rnd() * snapshots.length), 1)[0]!;
      return http.delete(`/snapshots/${id}`).then((res) => res.status);
    }
    return undefined;
  };
  // One of each kind first, one at a time in a random order, while the quota still has room: the 150 that
  // follow race each other for it, and whichever kind comes last may meet only refusals.
  const firsts = ['create', 'delete', 'extend', 'snapshot']
    .map((k) => [rnd(), k] as const)
    .sort((x, y) => x[0] - y[0])
    .map(([, k]) => k);
  for (const kind of firsts) {
    track(kind, fire(kind)!);
    await ops[ops.length - 1];
  }
  for (let i = 0; i < 150; i++) {
    if (i === 50) await worker.kill('SIGKILL');
    if (i === 100) worker = await suite.startWorker();
    const r = rnd();
    const kind = r < 0.3 ? 'create' : r < 0.45 ? 'delete' : r < 0.65 ? 'extend' : r < 0.85 ? 'snapshot' : 'unsnapshot';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const op = fire(kind);
    if (op) track(kind, op);
  }
  const statuses = await Promise.all(ops);
  // 400: a volume or snapshot not in a status the operation takes; 404: deleted meanwhile; 413: over quota.
  expect(statuses.filter((s) => ![202, 400, 404, 413].includes(s))).toEqual([]);
  expect(statuses.filter((s) => s === 413).length).toBeGreaterThan(0);
  // Every kind of change really happened, not only refusals.
  expect(
    Object.keys(accepted)
      .filter((k) => k !== 'unsnapshot')
      .sort(),
  ).toEqual(['create', 'delete', 'extend', 'snapshot']);
  const totals = async () =>
    (
      await suite.pool.query(
        `SELECT (SELECT count(*) FROM volumes WHERE project_id = $1)::int AS volumes,
            (SELECT count(*) FROM snapshots WHERE project_id = $1)::int AS snapshots,
            ((SELECT coalesce(sum(greatest(size, coalesce(pending_size, 0))), 0) FROM volumes WHERE project_id = $1)
             + (SELECT coalesce(sum(size), 0) FROM snapshots WHERE project_id = $1))::int AS gigabytes`,
        [PROJECT],
      )
    ).rows[0];
  // While work is still in flight and after it settles, the limits hold and verify agrees.
  const check = async () => {
    const t = await totals();
    expect(t.volumes).toBeLessThanOrEqual(60);
    expect(t.snapshots).toBeLessThanOrEqual(30);
    expect(t.gigabytes).toBeLessThanOrEqual(90);
    const v = await verify();
    if (v.code !== 0) throw new Error(`quota verify failed\n${v.stdout}`);
    return t;
  };
  await check();
  await poll(
    'every operation to settle',
    async () => {
      const { rows } = await suite.pool.query(
        `SELECT (SELECT count(*) FROM volumes WHERE project_id = $1 AND status NOT IN ('available', 'error'))
            + (SELECT count(*) FROM snapshots WHERE project_id = $1 AND status NOT IN ('available', 'error')) AS n`,
        [PROJECT],
      );
      return Number(rows[0].n) === 0;
    },
    { timeoutMs: 120_000, diag: () => `${JSON.stringify(kinds)}\n${suite.output()}` },
  );
  // Snapshots taken above were mostly still being made when their deletes came: delete some now that they settled.
  const settled = (await suite.pool.query("SELECT id FROM snapshots WHERE project_id = $1 AND status = 'available' LIMIT 5", [PROJECT]))
    .rows;
  expect(settled.length).toBeGreaterThan(0);
  for (const { id } of settled) expect((await http.delete(`/snapshots/${id}`)).status).toBe(202);
  await check();
  await poll(
    'the snapshot deletes to finish',
    async () => {
      const { rows } = await suite.pool.query('SELECT count(*)::int AS n FROM snapshots WHERE id = ANY($1)', [settled.map((r) => r.id)]);
      return rows[0].n === 0;
    },
    { timeoutMs: 60_000, diag: () => suite.output() },
  );
  const t = await check();
  const usage = (await http.get(`/os-quota-sets/${PROJECT}?usage=True`)).body.quota_set;
  expect([usage.volumes.in_use, usage.snapshots.in_use, usage.gigabytes.in_use]).toEqual([t.volumes, t.snapshots, t.gigabytes]);
}, 300_000);
