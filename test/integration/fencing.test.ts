/**
 * Exactly once under faults (issue 13), on real PostgreSQL + RabbitMQ with
 * separate processes: a worker paused past its lease mid-copy (the task is
 * offered again and claimed anew; the stale attempt must write nothing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { client, GIB, poll, PollAbort, Suite, type CairnProcess } from './support';

// Short leases: the sweep (every 0.5 s) takes back a task whose worker has not renewed for 2 s.
const ENV = { CAIRN_TASK_LEASE_SECONDS: '2' };

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create(ENV);
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
}, 60_000);
afterEach(async () => {
  for (const p of suite.procs) if (p.running) p.child.kill('SIGCONT');
  await Promise.all(suite.procs.map((p) => p.kill('SIGKILL')));
});

const diag = () => suite.output();
const files = () => (fs.existsSync(suite.backendDir) ? fs.readdirSync(suite.backendDir) : []);

function until(p: string, key: 'volume' | 'snapshot', status: string, timeoutMs = 60_000): Promise<unknown> {
  return poll(
    `${p} ${status}`,
    async () => {
      const s = (await http.get(p)).body?.[key]?.status;
      if (s === 'error' || s === 'error_extending') throw new PollAbort(`${p} went to ${s}`);
      return s === status;
    },
    { timeoutMs, diag },
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

async function tasksOf(id: string) {
  const { rows } = await suite.pool.query('SELECT kind, state, attempts, lapses FROM tasks WHERE resource_id = $1 ORDER BY created_at', [
    id,
  ]);
  return rows as Array<{ kind: string; state: string; attempts: number; lapses: number }>;
}

async function messagesOf(id: string): Promise<string[]> {
  const { rows } = await suite.pool.query('SELECT user_message FROM messages WHERE resource_uuid = $1', [id]);
  return rows.map((r) => r.user_message);
}

test('a worker paused past its lease mid-copy: the task is done once, by the new attempt; the stale one writes nothing', async () => {
  api = await suite.startApi();
  // Fault injection: each 8 MiB read of a copy pauses 40 ms, so a 1 GiB copy takes about 5 s and can be caught mid-way.
  const worker = await suite.startWorker({ env: { CAIRN_FAULT_COPY_DELAY_MS: '40' } });
  const created = await http.post('/volumes', { volume: { size: 1, name: 'src' } });
  expect(created.status).toBe(202);
  const vid = created.body.volume.id as string;
  await until(`/volumes/${vid}`, 'volume', 'available');
  const pattern = randomBytes(64 * 1024);
  const offsets = [0, GIB / 2 + 4321, GIB - pattern.length];
  for (const at of offsets) writeAt(suite.volumeFile(vid), at, pattern);

  const res = await http.post('/snapshots', { snapshot: { volume_id: vid, name: 'paused' } });
  expect(res.status).toBe(202);
  const sid = res.body.snapshot.id as string;
  const seen = new Set<string>();
  const watch = setInterval(() => {
    void http.get(`/snapshots/${sid}`).then(
      (r) => seen.add(r.body?.snapshot?.status),
      () => undefined,
    );
  }, 100);
  try {
    // Mid-copy: the attempt's own temporary file is there, the snapshot file is not.
    await poll('the copy under way', () => files().some((f) => f.startsWith(`snapshot-${sid}.part.`)), { intervalMs: 5, diag });
    expect(worker.child.kill('SIGSTOP')).toBe(true);
    // Past the lease: the sweep takes the task back (one lapse, no attempt spent) and the relay offers it again.
    await poll('the task taken back from the paused worker', async () => (await tasksOf(sid))[0]?.lapses === 1, {
      timeoutMs: 20_000,
      diag,
    });
    expect(worker.child.kill('SIGCONT')).toBe(true);

    await until(`/snapshots/${sid}`, 'snapshot', 'available');
    // The stale attempt learns at its next renewal that its task is gone, and ends without writing.
    await poll('the stale attempt abandoned', () => /abandoned without recording anything/.test(worker.output()), {
      timeoutMs: 10_000,
      diag,
    });
    await new Promise((r) => setTimeout(r, 2_500)); // more renewal rounds: nothing may change afterwards
  } finally {
    clearInterval(watch);
  }

  worker.assertRunning();
  const [task, ...others] = await tasksOf(sid);
  expect(others).toEqual([]);
  expect(task).toMatchObject({ kind: 'snapshot.create', state: 'done', lapses: 1 });
  expect(task!.attempts).toBeGreaterThanOrEqual(2);
  expect([...seen].filter((s) => s !== 'creating' && s !== 'available')).toEqual([]);
  expect((await http.get(`/snapshots/${sid}`)).body.snapshot.status).toBe('available');
  expect(await messagesOf(sid)).toEqual([]);
  expect(await messagesOf(vid)).toEqual([]);
  // Exactly one file for the snapshot, no temporary file left, the source's bytes at the source's size.
  expect(files().filter((f) => f.includes(sid))).toEqual([`snapshot-${sid}`]);
  const snapFile = path.join(suite.backendDir, `snapshot-${sid}`);
  expect(fs.statSync(snapFile).size).toBe(GIB);
  for (const at of offsets) expect(readAt(snapFile, at, pattern.length).equals(pattern)).toBe(true);
}, 120_000);

test('a clone, an extend, an attach, a snapshot and a detach of one volume, accepted in quick succession: all succeed, in order, copies at their recorded sizes', async () => {
  api = await suite.startApi();
  // Slow copies (the chunked copy, 20 ms per 8 MiB read): what is accepted after a copy would overtake it if it could.
  await suite.startWorker({ env: { CAIRN_FAULT_COPY_DELAY_MS: '20' } });
  const created = await http.post('/volumes', { volume: { size: 1, name: 'ordered' } });
  const vid = created.body.volume.id as string;
  await until(`/volumes/${vid}`, 'volume', 'available');
  const pattern = randomBytes(4096);
  writeAt(suite.volumeFile(vid), 1000, pattern);

  // 1. a clone (the source stays available) and 2. an extend of the source right after it.
  const clone = await http.post('/volumes', { volume: { source_volid: vid, name: 'clone' } });
  expect(clone.status).toBe(202);
  const cid = clone.body.volume.id as string;
  const extend = await http.post(`/volumes/${vid}/action`, { 'os-extend': { new_size: 2 } });
  expect(extend.status).toBe(202);
  await until(`/volumes/${vid}`, 'volume', 'available');
  // 3. an attach (answered once connected), 4. a snapshot of the in-use volume, 5. its detach while the snapshot copies.
  const server = randomBytes(16)
    .toString('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  const att = await http.post('/attachments', {
    attachment: { volume_uuid: vid, instance_uuid: server, connector: { host: 'h1', mountpoint: '/dev/vdb' } },
  });
  expect(att.status).toBe(200);
  const aid = att.body.attachment.id as string;
  expect((await http.post(`/attachments/${aid}/action`, { 'os-complete': null })).status).toBe(204);
  const snap = await http.post('/snapshots', { snapshot: { volume_id: vid, name: 'in-use' } });
  expect(snap.status).toBe(202);
  const sid = snap.body.snapshot.id as string;
  const detach = await http.delete(`/attachments/${aid}`);
  expect(detach.status).toBe(200);

  await until(`/volumes/${cid}`, 'volume', 'available');
  await until(`/snapshots/${sid}`, 'snapshot', 'available');
  await until(`/volumes/${vid}`, 'volume', 'available');

  // In order: each task of the volume finished before the next (accepted later) one did.
  const { rows } = await suite.pool.query(
    "SELECT kind, state, resource_key, completed_at FROM tasks WHERE resource_key = $1 AND kind <> 'volume.create' OR resource_id = $2 ORDER BY seq",
    [`volume:${vid}`, cid],
  );
  expect(rows.map((r) => [r.kind, r.state])).toEqual([
    ['volume.create', 'done'],
    ['volume.extend', 'done'],
    ['volume.attach', 'done'],
    ['snapshot.create', 'done'],
    ['volume.detach', 'done'],
  ]);
  const finished = rows.map((r) => (r.completed_at as Date).getTime());
  expect([...finished].sort((a, b) => a - b)).toEqual(finished);

  // Every copy's file is the size recorded for it: the clone of the 1 GiB source, the snapshot of the 2 GiB one.
  const sizes = async (p: string, key: 'volume' | 'snapshot') => (await http.get(p)).body[key].size as number;
  expect(await sizes(`/volumes/${cid}`, 'volume')).toBe(1);
  expect(fs.statSync(suite.volumeFile(cid)).size).toBe(GIB);
  expect(await sizes(`/snapshots/${sid}`, 'snapshot')).toBe(2);
  const snapFile = path.join(suite.backendDir, `snapshot-${sid}`);
  expect(fs.statSync(snapFile).size).toBe(2 * GIB);
  expect(fs.statSync(suite.volumeFile(vid)).size).toBe(2 * GIB);
  for (const f of [suite.volumeFile(cid), snapFile, suite.volumeFile(vid)])
    expect(readAt(f, 1000, pattern.length).equals(pattern)).toBe(true);
  expect(files().filter((f) => f.includes('.part'))).toEqual([]);
  expect(await messagesOf(vid)).toEqual([]);
}, 120_000);
