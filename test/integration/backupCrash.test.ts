/**
 * The backup service SIGKILLed mid-backup and mid-restore, on real
 * PostgreSQL + RabbitMQ with separate `cairn api`, `cairn worker` and
 * `cairn backup-worker` processes. The sweeper re-offers the task when the
 * dead worker's lease runs out, a new backup worker redoes it from the
 * start: the backup ends available (one row, one folder), the restore
 * gives the exact bytes, nothing stays in a transitional status, no
 * temporary file is left, and `cairn-manage quota verify` finds usage exact.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { client, GIB, poll, PollAbort, PROJECT, Suite, type CairnProcess } from './support';

const MiB = 1024 * 1024;
// Short leases; 1 MiB chunks; quotas as the defaults (10 backups) so the counts are checked against real limits.
const ENV = { CAIRN_TASK_LEASE_SECONDS: '2', CAIRN_BACKUP_CHUNK_MIB: '1' };
// The backup worker that is killed pauses 20 ms per chunk (a 1 GiB volume: ~20 s), so the kill lands mid-transfer.
const SLOW = { env: { CAIRN_FAULT_DRIVER_DELAY_MS: '20' } };

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create(ENV);
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

const diag = () => suite.output();

function until(p: string, key: 'volume' | 'backup', status: string): Promise<unknown> {
  return poll(
    `${p} ${status}`,
    async () => {
      const s = (await http.get(p)).body?.[key]?.status;
      if (s === 'error' && status !== 'error') throw new PollAbort(`${p} went to error`);
      return s === status;
    },
    { timeoutMs: 180_000, diag },
  );
}

function writeAt(file: string, pos: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, data, 0, data.length, pos);
  fs.closeSync(fd);
}

async function tasksOf(id: string): Promise<Array<{ kind: string; state: string; attempts: number }>> {
  const { rows } = await suite.pool.query('SELECT kind, state, attempts FROM tasks WHERE resource_id = $1 ORDER BY created_at', [id]);
  return rows.map(({ kind, state, attempts }) => ({ kind, state, attempts }));
}

test('a backup worker SIGKILLed mid-backup and mid-restore: the retry completes both, exact bytes, no stuck status, quota exact', async () => {
  api = await suite.startApi();
  await suite.startWorker();
  let backupWorker = await suite.startBackupWorker(SLOW);

  const res = await http.post('/volumes', { volume: { size: 1 } });
  expect(res.status).toBe(202);
  const volumeId = res.body.volume.id as string;
  await until(`/volumes/${volumeId}`, 'volume', 'available');
  const file = suite.volumeFile(volumeId);
  const pieces = [0, 300, 600, 900].map((mib) => ({ at: mib * MiB + 777, data: randomBytes(2 * MiB) }));
  for (const p of pieces) writeAt(file, p.at, p.data);
  const expected = fs.readFileSync(file);

  // --- mid-backup
  const created = await http.post('/backups', { backup: { volume_id: volumeId, name: 'crash' } });
  expect(created.status).toBe(202);
  const backupId = created.body.backup.id as string;
  const folder = path.join(suite.dataDir, 'backups', 'default', backupId);
  await poll('the backup past its 300th chunk', () => fs.existsSync(path.join(folder, 'chunk-000300')), {
    intervalMs: 5,
    timeoutMs: 120_000,
    diag,
  });
  await backupWorker.kill('SIGKILL');
  expect(fs.existsSync(path.join(folder, 'metadata.json'))).toBe(false);
  expect((await http.get(`/backups/${backupId}`)).body.backup.status).toBe('creating');
  expect((await http.get(`/volumes/${volumeId}`)).body.volume.status).toBe('backing-up');

  backupWorker = await suite.startBackupWorker();
  await until(`/backups/${backupId}`, 'backup', 'available');
  await until(`/volumes/${volumeId}`, 'volume', 'available');
  expect(await tasksOf(backupId)).toEqual([{ kind: 'backup.create', state: 'done', attempts: 2 }]);
  const { rows: backups } = await suite.pool.query('SELECT id, status, object_count FROM backups WHERE volume_id = $1', [volumeId]);
  // 2 MiB at an odd offset spans 3 chunks: 4 pieces → 12 chunk objects, and the metadata object
  expect(backups).toEqual([{ id: backupId, status: 'available', object_count: 13 }]);
  expect(fs.readdirSync(path.join(suite.dataDir, 'backups', 'default'))).toEqual([backupId]);
  expect(fs.readdirSync(folder).filter((f) => f.endsWith('.part'))).toEqual([]);

  // --- mid-restore, onto a new volume
  await backupWorker.kill('SIGTERM');
  backupWorker = await suite.startBackupWorker(SLOW);
  const restore = await http.post(`/backups/${backupId}/restore`, { restore: { name: 'restored' } });
  expect(restore.status).toBe(202);
  const newId = restore.body.restore.volume_id as string;
  const part = `${suite.volumeFile(newId)}.part`;
  await poll('the restore under way', () => fs.existsSync(part) && fs.statSync(part).blocks > 0, {
    intervalMs: 5,
    timeoutMs: 120_000,
    diag,
  });
  await backupWorker.kill('SIGKILL');
  expect((await http.get(`/volumes/${newId}`)).body.volume.status).toBe('restoring-backup');
  expect((await http.get(`/backups/${backupId}`)).body.backup.status).toBe('restoring');

  await suite.startBackupWorker();
  await until(`/volumes/${newId}`, 'volume', 'available');
  await until(`/backups/${backupId}`, 'backup', 'available');
  expect((await tasksOf(backupId)).map((t) => [t.kind, t.state, t.attempts])).toEqual([
    ['backup.create', 'done', 2],
    ['backup.restore', 'done', 2],
  ]);
  const restored = fs.readFileSync(suite.volumeFile(newId));
  expect(restored.length).toBe(GIB);
  expect(restored.equals(expected)).toBe(true);
  expect(fs.existsSync(part)).toBe(false);
  expect(fs.statSync(suite.volumeFile(newId)).blocks * 512).toBeLessThan(64 * MiB); // sparse

  // Usage exact: 2 volumes (2 GiB), 1 backup (1 GiB), and verify agrees.
  const quota = (await http.get(`/os-quota-sets/${PROJECT}?usage=True`)).body.quota_set;
  expect(quota.backups.in_use).toBe(1);
  expect(quota.backup_gigabytes.in_use).toBe(1);
  expect(quota.volumes.in_use).toBe(2);
  const verify = await suite.manage('quota', 'verify', '--project', PROJECT, '--json');
  expect(verify.code).toBe(0);
  const report = JSON.parse(verify.stdout);
  const key = (k: string) => report.projects[0].keys.find((x: any) => x.key === k);
  expect(key('backups')).toMatchObject({ inUse: 1, recount: 1 });
  expect(key('backup_gigabytes')).toMatchObject({ inUse: 1, recount: 1 });
}, 600_000);
