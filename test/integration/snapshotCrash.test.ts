/**
 * Copies that crash, on real PostgreSQL + RabbitMQ: a worker SIGKILLed in
 * the middle of a clone's copy, and one SIGKILLed after a snapshot's copy
 * but before its outcome was committed. In both, a new worker finishes the
 * task: the right bytes, exactly one file, no temporary file, attempt 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { client, GIB, poll, PollAbort, Suite, type CairnProcess } from './support';

// Short leases, so the sweeper re-offers a dead worker's task quickly.
const LEASE = { CAIRN_TASK_LEASE_SECONDS: '2' };

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create(LEASE);
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
}, 60_000);
afterEach(async () => {
  await Promise.all(suite.procs.map((p) => p.kill('SIGKILL')));
});

const diag = () => suite.output();
const files = () => (fs.existsSync(suite.backendDir) ? fs.readdirSync(suite.backendDir) : []);

async function tasksOf(id: string): Promise<Array<{ kind: string; state: string; attempts: number }>> {
  const { rows } = await suite.pool.query('SELECT kind, state, attempts FROM tasks WHERE resource_id = $1 ORDER BY created_at', [id]);
  return rows.map(({ kind, state, attempts }) => ({ kind, state, attempts }));
}

function until(p: string, key: 'volume' | 'snapshot', status: string): Promise<unknown> {
  return poll(
    `${p} ${status}`,
    async () => {
      const s = (await http.get(p)).body?.[key]?.status;
      if (s === 'error') throw new PollAbort(`${p} went to error`);
      return s === status;
    },
    { timeoutMs: 120_000, diag },
  );
}

function writeAt(file: string, pos: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, data, 0, data.length, pos);
  fs.closeSync(fd);
}

function readAt(file: string, pos: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, buf, 0, n, pos);
  fs.closeSync(fd);
  return buf;
}

/** An available volume of `size` GiB with `pattern` at its start, middle and end. */
async function patterned(size: number, pattern: Buffer): Promise<{ id: string; offsets: number[] }> {
  const res = await http.post('/volumes', { volume: { size } });
  expect(res.status).toBe(202);
  await until(`/volumes/${res.body.volume.id}`, 'volume', 'available');
  const offsets = [0, (size * GIB) / 2 + 1234, size * GIB - pattern.length];
  for (const at of offsets) writeAt(suite.volumeFile(res.body.volume.id), at, pattern);
  return { id: res.body.volume.id, offsets };
}

test('a worker SIGKILLed mid-copy of a clone: the next attempt copies again from scratch into the temporary name and renames at the end', async () => {
  api = await suite.startApi();
  // Fault injection: each 8 MiB read of a copy pauses 20 ms (the chunked copy), so it is caught in the middle.
  const worker = await suite.startWorker({ env: { CAIRN_FAULT_COPY_DELAY_MS: '20' } });
  const pattern = randomBytes(64 * 1024);
  const src = await patterned(4, pattern);
  const res = await http.post('/volumes', { volume: { source_volid: src.id } });
  expect(res.status).toBe(202);
  const id = res.body.volume.id as string;

  // The attempt's own temporary file: `volume-<id>.part.<attempt token>`.
  await poll('the copy under way', () => files().some((f) => f.startsWith(`volume-${id}.part.`)), {
    intervalMs: 5,
    timeoutMs: 60_000,
    diag,
  });
  await worker.kill('SIGKILL');
  expect(fs.existsSync(suite.volumeFile(id))).toBe(false);
  expect((await http.get(`/volumes/${id}`)).body.volume.status).toBe('creating');

  await suite.startWorker();
  await until(`/volumes/${id}`, 'volume', 'available');
  expect(files().filter((f) => f.includes(id))).toEqual([`volume-${id}`]);
  for (const at of src.offsets) expect(readAt(suite.volumeFile(id), at, pattern.length).equals(pattern)).toBe(true);
  expect(fs.statSync(suite.volumeFile(id)).size).toBe(4 * GIB);
  expect(await tasksOf(id)).toEqual([{ kind: 'volume.create', state: 'done', attempts: 2 }]);
}, 240_000);

test("a worker SIGKILLed after a snapshot's copy, before its outcome: the next attempt keeps the finished copy", async () => {
  api = await suite.startApi();
  const plain = await suite.startWorker();
  const pattern = randomBytes(4096);
  const src = await patterned(1, pattern);
  await plain.kill('SIGTERM');
  // Fault injection: after the driver's work, the worker waits 30 s before recording the outcome.
  const slow = await suite.startWorker({ env: { CAIRN_FAULT_DRIVER_DELAY_MS: '30000' } });
  const res = await http.post('/snapshots', { snapshot: { volume_id: src.id } });
  expect(res.status).toBe(202);
  const id = res.body.snapshot.id as string;
  const file = path.join(suite.backendDir, `snapshot-${id}`);

  await poll('the snapshot copied, not yet recorded', async () => fs.existsSync(file) && (await tasksOf(id))[0]?.state === 'running', {
    intervalMs: 10,
    diag,
  });
  await slow.kill('SIGKILL');
  expect((await http.get(`/snapshots/${id}`)).body.snapshot.status).toBe('creating');
  // The volume changes meanwhile: the re-run must not take a second, later copy.
  writeAt(suite.volumeFile(src.id), 0, Buffer.alloc(pattern.length, 0xee));

  await suite.startWorker();
  await until(`/snapshots/${id}`, 'snapshot', 'available');
  expect(readAt(file, 0, pattern.length).equals(pattern)).toBe(true);
  expect(files().filter((f) => f.includes(id))).toEqual([`snapshot-${id}`]);
  expect(await tasksOf(id)).toEqual([{ kind: 'snapshot.create', state: 'done', attempts: 2 }]);
}, 240_000);
