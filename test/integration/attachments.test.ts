/**
 * Attachments on real PostgreSQL + RabbitMQ: the reservation race under a
 * real connection pool, and a worker lost in the middle of an attach.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { client, poll, Suite, type CairnProcess } from './support';

// Short lease, two attempts, and a task no worker takes in 3 s fails: a lost worker is noticed in seconds.
const ENV = { CAIRN_TASK_LEASE_SECONDS: '2', CAIRN_TASK_MAX_ATTEMPTS: '2', CAIRN_TASK_UNCLAIMED_TIMEOUT_SECONDS: '3' };

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create(ENV);
  api = await suite.startApi();
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

async function availableVolume(): Promise<string> {
  const res = await http.post('/volumes', { volume: { size: 1 } });
  expect(res.status).toBe(202);
  await poll('volume available', async () => (await http.get(`/volumes/${res.body.volume.id}`)).body.volume.status === 'available', {
    timeoutMs: 30_000,
    diag: () => suite.output(),
  });
  return res.body.volume.id;
}

test('of 50 simultaneous attachment-creates on a non-multiattach volume exactly one wins (pg pool)', async () => {
  const worker = await suite.startWorker();
  const id = await availableVolume();
  const results = await Promise.all(
    Array.from({ length: 50 }, () => http.post('/attachments', { attachment: { volume_uuid: id, instance_uuid: randomUUID() } })),
  );
  expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  expect(results.filter((r) => r.status === 400)).toHaveLength(49);
  const { rows } = await suite.pool.query('SELECT count(*)::int AS n FROM volume_attachments WHERE volume_id = $1', [id]);
  expect(rows[0].n).toBe(1);
  await worker.kill();
}, 90_000);

test('a worker lost mid-attach never leaves the volume attaching: the task fails, the volume settles', async () => {
  const healthy = await suite.startWorker();
  const id = await availableVolume();
  await healthy.kill();
  // This worker moves the file, then stalls before recording it; then it dies.
  const slow = await suite.startWorker({ env: { CAIRN_FAULT_DRIVER_DELAY_MS: '30000' } });
  const server = randomUUID();
  const pending = http.post('/attachments', {
    attachment: { volume_uuid: id, instance_uuid: server, connector: { host: 'h1', mountpoint: '/dev/vdb' } },
  });
  await poll(
    'the attach task running',
    async () => {
      const { rows } = await suite.pool.query("SELECT state FROM tasks WHERE resource_id = $1 AND kind = 'volume.attach'", [id]);
      return rows[0]?.state === 'running';
    },
    { timeoutMs: 20_000, diag: () => suite.output() },
  );
  expect((await http.get(`/volumes/${id}`)).body.volume.status).toBe('attaching');
  const underServer = path.join(suite.backendDir, server, `volume-${id}`);
  await poll('the slow worker moved the file under the server', () => fs.existsSync(underServer), { timeoutMs: 10_000 });
  await slow.kill('SIGKILL');

  const res = await pending;
  expect(res.status).toBe(400);
  const vol = (await http.get(`/volumes/${id}`)).body.volume;
  expect(vol.status).toBe('available');
  const { rows } = await suite.pool.query('SELECT attach_status FROM volume_attachments WHERE volume_id = $1', [id]);
  expect(rows.map((r) => r.attach_status)).toEqual(['error_attaching']);
  const { rows: msgs } = await suite.pool.query('SELECT user_message FROM messages WHERE resource_uuid = $1', [id]);
  expect(msgs.map((m) => m.user_message)).toEqual([expect.stringMatching(/^attach volume:/)]);

  // The file moved before the worker died; the next attach finds it wherever it is.
  const worker = await suite.startWorker();
  const other = randomUUID();
  const again = await http.post('/attachments', {
    attachment: { volume_uuid: id, instance_uuid: other, connector: { host: 'h2', mountpoint: '/dev/vdb' } },
  });
  expect(again.status).toBe(200);
  const underOther = path.join(suite.backendDir, other, `volume-${id}`);
  expect(again.body.attachment.connection_info.device_path).toBe(underOther);
  expect(fs.existsSync(underOther)).toBe(true);
  await worker.kill();
}, 120_000);
