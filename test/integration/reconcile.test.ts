/**
 * `cairn-manage reconcile [--repair]` on real PostgreSQL + RabbitMQ: the
 * command only writes tasks; the API relays them and the separate worker
 * process of the file backend scans and repairs its own storage directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { client, poll, Suite, type CairnProcess } from './support';

let suite: Suite;
let api: CairnProcess;
let worker: CairnProcess;
const http = client(() => api);
const diag = () => suite.output();

beforeAll(async () => {
  suite = await Suite.create({ CAIRN_TASK_LEASE_SECONDS: '5' });
  api = await suite.startApi();
  worker = await suite.startWorker();
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

async function volume(name: string): Promise<string> {
  const res = await http.post('/volumes', { volume: { size: 1, name } });
  expect(res.status).toBe(202);
  const id = res.body.volume.id as string;
  await poll(`volume ${id} available`, async () => (await http.get(`/volumes/${id}`)).body?.volume?.status === 'available', { diag });
  return id;
}

test('reconcile reports (exit 1), --repair fixes through the worker (exit 0), and a last run is clean', async () => {
  const lost = await volume('lost');
  const kept = await volume('kept');
  fs.rmSync(suite.volumeFile(lost));
  const strayId = randomUUID();
  fs.writeFileSync(path.join(suite.backendDir, `volume-${strayId}`), 'stray');

  const report = await suite.manage('reconcile');
  // stderr carries only progress (plain lines when not on a terminal); the report is stdout's.
  expect(
    report.stderr
      .trim()
      .split('\n')
      .every((l) => /^reconcile: \d+% /.test(l)),
  ).toBe(true);
  expect(report.code).toBe(1);
  const lines = report.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^backend\s+kind\s+id\s+db location\s+disk location\s+action$/);
  expect(lines.find((l) => l.includes(lost))).toMatch(
    new RegExp(`^file\\s+missing\\s+${lost}\\s+${suite.volumeFile(lost)}\\s+-\\s+set error$`),
  );
  expect(lines.find((l) => l.includes(strayId))).toMatch(/^file\s+orphan\s+\S+\s+-\s+\S+\s+quarantine$/);
  expect(lines.at(-1)).toBe('file: 2 difference(s), 0 repaired, 2 left');

  const repair = await suite.manage('reconcile', '--repair');
  expect(repair.code).toBe(0);
  expect(repair.stdout.trim().split('\n').at(-1)).toBe('file: 2 difference(s), 2 repaired, 0 left');
  expect((await http.get(`/volumes/${lost}`)).body.volume.status).toBe('error');
  expect((await http.get(`/volumes/${kept}`)).body.volume.status).toBe('available');
  expect(fs.readdirSync(path.join(suite.backendDir, '.orphans'))).toEqual([`volume-${strayId}`]);

  const clean = await suite.manage('reconcile', '--json');
  expect(clean.code).toBe(0);
  expect(JSON.parse(clean.stdout)).toEqual([{ backend: 'file', differences: [] }]);

  // Every answer came from the worker process, not from cairn-manage or the API.
  const { rows } = await suite.pool.query("SELECT state, lease_owner FROM tasks WHERE kind = 'backend.reconcile'");
  expect(rows).toHaveLength(4);
  expect(rows.every((r) => r.state === 'done' && r.lease_owner === `${suite.hostname}@file:${worker.child.pid}`)).toBe(true);
}, 120_000);

test('without a worker for the backend, reconcile says so and exits 1', async () => {
  await worker.kill('SIGTERM');
  const res = await suite.manage('reconcile', '--timeout', '2');
  expect(res.code).toBe(1);
  expect(res.stdout.trim()).toBe(
    'file: not checked — no worker of backend file answered in 2 s (is one running, and an API to relay the task?)',
  );
}, 60_000);
