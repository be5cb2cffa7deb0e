import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { availableSnapshot, availableVolume, client, keyDiff, recorded, type Client } from '../helpers/snapshots';

let cairn: TestCairn;
let c: Client;
beforeAll(async () => {
  // 1 MiB chunks: a 1 GiB volume is 1024 chunks, so a few changed MiB are a few chunks.
  cairn = await startTestCairn({ CAIRN_BACKUP_CHUNK_MIB: '1' });
  await liftQuotas(cairn.url);
  c = client(cairn.url);
  expect((await c.put(`/os-quota-sets/${c.project}`, { quota_set: { backups: -1, backup_gigabytes: -1 } })).status).toBe(200);
});
afterAll(async () => {
  await cairn.stop();
});

const MiB = 1024 * 1024;
const backupDir = () => path.join(cairn.dataDir, 'backups');

async function until(p: string, key: 'volume' | 'backup' | 'snapshot', status: string): Promise<any> {
  return waitFor(
    async () => {
      const item = (await c.get(p)).body[key];
      if (item?.status === 'error' && status !== 'error') throw new Error(`${p} went to error: ${item.fail_reason ?? ''}`);
      return item?.status === status && item;
    },
    60_000,
    `${p} ${status}`,
  );
}

async function availableBackup(body: Record<string, unknown>): Promise<any> {
  const res = await c.post('/backups', { backup: body });
  if (res.status !== 202) throw new Error(`backup create: ${res.status} ${res.text}`);
  return until(`/backups/${res.body.backup.id}`, 'backup', 'available');
}

const volumeFile = async (id: string): Promise<string> => (await cairn.db('volumes').where({ id }).first()).provider_location;

/** Bytes written straight into the volume's file (what a server using the volume would do). */
function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

describe('backups API', () => {
  it('create answers 202 with the summary; the backup service makes it available and the volume available again', async () => {
    const v = await availableVolume(c);
    const res = await c.post('/backups', { backup: { volume_id: v.id, name: 'b1', description: 'first', container: 'nightly' } });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body.backup).sort()).toEqual(['id', 'links', 'name']);
    expect(keyDiff(recorded('backups_create_no_backup_service').body, res.body)).toEqual([]);
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toMatch(/backing-up|available/);
    const b = await until(`/backups/${res.body.backup.id}`, 'backup', 'available');
    expect(b).toMatchObject({
      name: 'b1',
      description: 'first',
      container: 'nightly',
      size: 1,
      volume_id: v.id,
      is_incremental: false,
      has_dependent_backups: false,
      fail_reason: null,
    });
    expect(b.object_count).toBe(1); // an empty volume: only the metadata object
    // The recorded Cinder backup is an error one (no backup service): the same keys, other values.
    expect(Object.keys((await c.get(`/backups/${b.id}`)).body.backup).sort()).toEqual(
      Object.keys(recorded('backups_show_error').body.backup).sort(),
    );
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('available');
    expect(fs.existsSync(path.join(backupDir(), 'nightly', b.id, 'metadata.json'))).toBe(true);
  });

  it('detail keys follow the microversion and the role: project from 3.18, metadata from 3.43, user_id from 3.56', async () => {
    const v = await availableVolume(c);
    const b = await availableBackup({ volume_id: v.id });
    const keys = async (mv: string) => Object.keys((await c.at(mv).get(`/backups/${b.id}`)).body.backup);
    const base = [
      'id',
      'status',
      'size',
      'object_count',
      'availability_zone',
      'container',
      'created_at',
      'updated_at',
      'name',
      'description',
      'fail_reason',
      'volume_id',
      'links',
      'is_incremental',
      'has_dependent_backups',
      'snapshot_id',
      'data_timestamp',
    ];
    expect((await keys('3.0')).sort()).toEqual([...base].sort());
    expect((await keys('3.18')).sort()).toEqual([...base, 'os-backup-project-attr:project_id'].sort());
    expect((await keys('3.43')).sort()).toEqual([...base, 'os-backup-project-attr:project_id', 'metadata'].sort());
    expect((await keys('3.56')).sort()).toEqual([...base, 'os-backup-project-attr:project_id', 'metadata', 'user_id'].sort());
    // metadata before 3.43 and availability_zone before 3.51 are keys Cinder's schema does not know
    expect((await c.at('3.42').post('/backups', { backup: { volume_id: v.id, metadata: { a: 'b' } } })).status).toBe(400);
    expect((await c.at('3.50').post('/backups', { backup: { volume_id: v.id, availability_zone: 'nova' } })).status).toBe(400);
  });

  it('lists filter, sort, page and count; update works from 3.9 (metadata from 3.43)', async () => {
    const v = await availableVolume(c);
    const ids: string[] = [];
    for (const name of ['la', 'lb', 'lc']) ids.push((await availableBackup({ volume_id: v.id, name, metadata: { k: name } })).id);
    const page = await c.get(`/backups?volume_id=${v.id}&limit=2&sort=name:asc`);
    expect(page.body.backups.map((b: any) => b.name)).toEqual(['la', 'lb']);
    expect(page.body.backups_links[0].href).toContain(`marker=${ids[1]}`);
    const next = await c.get(`/backups?volume_id=${v.id}&limit=2&sort=name:asc&marker=${ids[1]}`);
    expect(next.body.backups.map((b: any) => b.name)).toEqual(['lc']);
    const counted = await c.get(`/backups/detail?volume_id=${v.id}&with_count=true&name=lb`);
    expect(counted.body.count).toBe(1);
    expect(counted.body.backups[0].metadata).toEqual({ k: 'lb' });
    expect((await c.get('/backups?marker=' + randomUUID())).status).toBe(404);
    expect((await c.at('3.8').put(`/backups/${ids[0]}`, { backup: { name: 'x' } })).status).toBe(404);
    const upd = await c.at('3.43').put(`/backups/${ids[0]}`, { backup: { name: 'renamed', metadata: { n: '1' } } });
    expect(upd.status).toBe(200);
    expect(Object.keys(upd.body.backup).sort()).toEqual(['id', 'links', 'name']);
    expect((await c.get(`/backups/${ids[0]}`)).body.backup).toMatchObject({ name: 'renamed', metadata: { n: '1' } });
    expect((await c.at('3.42').put(`/backups/${ids[0]}`, { backup: { metadata: { n: '2' } } })).status).toBe(400);
  });

  it('refuses what Cinder refuses: an in-use volume without force, an incremental without a parent, an unsafe container', async () => {
    const v = await availableVolume(c);
    const inc = await c.post('/backups', { backup: { volume_id: v.id, incremental: true } });
    expect(inc.status).toBe(400);
    expect(inc.body.badRequest.message).toBe('Invalid backup: No backups available to do an incremental backup.');
    expect((await c.post('/backups', { backup: { volume_id: randomUUID() } })).status).toBe(404);
    expect((await c.post('/backups', { backup: { volume_id: v.id, container: '../x' } })).status).toBe(400);
    expect((await c.post('/backups', { backup: { volume_id: v.id, bogus: 1 } })).status).toBe(400);
    // (another project's member gets 404: backupPolicy.test.ts, with Keystone roles; in noauth everyone is an admin)
    // attach it: in-use needs force
    const att = await c.post('/attachments', {
      attachment: { volume_uuid: v.id, instance_uuid: randomUUID(), connector: { host: 'h', initiator: 'i' } },
    });
    expect((await c.post(`/attachments/${att.body.attachment.id}/action`, { 'os-complete': {} })).status).toBe(204);
    await until(`/volumes/${v.id}`, 'volume', 'in-use');
    const noForce = await c.post('/backups', { backup: { volume_id: v.id } });
    expect(noForce.status).toBe(400);
    expect(noForce.body.badRequest.message).toBe('Invalid volume: Backing up an in-use volume must use the force flag.');
    const forced = await availableBackup({ volume_id: v.id, force: true });
    expect(forced.status).toBe('available');
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('in-use');
  });

  it('delete: a parent with incremental children stays (400); os-force_delete and os-reset_status are for admins', async () => {
    const v = await availableVolume(c);
    const full = await availableBackup({ volume_id: v.id });
    const inc = await availableBackup({ volume_id: v.id, incremental: true });
    expect(inc).toMatchObject({ is_incremental: true });
    expect((await c.get(`/backups/${full.id}`)).body.backup.has_dependent_backups).toBe(true);
    const refused = await c.delete(`/backups/${full.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toBe('Invalid backup: Incremental backups exist for this backup.');
    expect((await c.post(`/backups/${inc.id}/action`, { 'os-reset_status': { status: 'creating' } })).status).toBe(400);
    expect((await c.post(`/backups/${inc.id}/action`, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
    expect((await c.get(`/backups/${inc.id}`)).body.backup.status).toBe('error');
    expect((await c.post(`/backups/${inc.id}/action`, { 'os-bogus': {} })).status).toBe(400);
    expect((await c.post(`/backups/${inc.id}/action`, { 'os-force_delete': {} })).status).toBe(202);
    await waitFor(async () => (await c.get(`/backups/${inc.id}`)).status === 404, 30_000, 'incremental gone');
    expect((await c.delete(`/backups/${full.id}`)).status).toBe(202);
    await waitFor(async () => (await c.get(`/backups/${full.id}`)).status === 404, 30_000, 'full gone');
    expect(fs.existsSync(path.join(backupDir(), 'default', full.id))).toBe(false);
  });

  it('quota: backups and backup_gigabytes in os-quota-sets and /limits; over the limit is 413 BackupLimitExceeded', async () => {
    const project = 'abcd0000abcd0000abcd0000abcd0001';
    const p = client(cairn.url, { project });
    await liftQuotas(cairn.url, project);
    expect((await p.put(`/os-quota-sets/${project}`, { quota_set: { backups: 1, backup_gigabytes: 5 } })).status).toBe(200);
    const v = await availableVolume(p);
    const first = await p.post('/backups', { backup: { volume_id: v.id } });
    expect(first.status).toBe(202);
    await waitFor(async () => (await p.get(`/backups/${first.body.backup.id}`)).body.backup.status === 'available', 30_000, 'first backup');
    const over = await p.post('/backups', { backup: { volume_id: v.id } });
    expect(over.status).toBe(413);
    expect(over.body.overLimit.message).toBe('BackupLimitExceeded: Maximum number of backups allowed (1) exceeded');
    const usage = (await p.get(`/os-quota-sets/${project}?usage=True`)).body.quota_set;
    expect(usage.backups).toEqual({ limit: 1, in_use: 1, reserved: 0 });
    expect(usage.backup_gigabytes).toEqual({ limit: 5, in_use: 1, reserved: 0 });
    const limits = (await p.get('/limits')).body.limits.absolute;
    expect(limits).toMatchObject({ maxTotalBackups: 1, totalBackupsUsed: 1, maxTotalBackupGigabytes: 5, totalBackupGigabytesUsed: 1 });
    expect((await p.put(`/os-quota-sets/${project}`, { quota_set: { backups: 5, backup_gigabytes: 1 } })).status).toBe(200);
    const big = await p.post('/backups', { backup: { volume_id: v.id } });
    expect(big.status).toBe(413);
    expect(big.body.overLimit.message).toBe(
      'VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested 1G, quota is 1G and 1G has been consumed.',
    );
  });

  it('restore onto a new volume (named, or restore_backup_<id>) and onto an existing one; a too small or busy volume is refused', async () => {
    const v = await availableVolume(c, { metadata: { 'vol-meta1': 'value1' } });
    const b = await availableBackup({ volume_id: v.id });
    const named = await c.post(`/backups/${b.id}/restore`, { restore: { name: 'from-backup' } });
    expect(named.status).toBe(202);
    expect(named.body.restore).toMatchObject({ backup_id: b.id, volume_name: 'from-backup' });
    expect((await c.get(`/backups/${b.id}`)).body.backup.status).toMatch(/restoring|available/);
    const restored = await until(`/volumes/${named.body.restore.volume_id}`, 'volume', 'available');
    expect(restored.size).toBe(1);
    expect(restored.metadata).toEqual({ 'vol-meta1': 'value1' }); // the volume's metadata comes back with its data
    await until(`/backups/${b.id}`, 'backup', 'available');
    const unnamed = await c.post(`/backups/${b.id}/restore`, { restore: null });
    expect(unnamed.body.restore.volume_name).toBe(`restore_backup_${b.id}`);
    await until(`/volumes/${unnamed.body.restore.volume_id}`, 'volume', 'available');
    await until(`/backups/${b.id}`, 'backup', 'available');
    const target = await availableVolume(c, { size: 2 });
    const onto = await c.post(`/backups/${b.id}/restore`, { restore: { volume_id: target.id } });
    expect(onto.status).toBe(202);
    await until(`/volumes/${target.id}`, 'volume', 'available');
    expect((await c.get(`/volumes/${target.id}`)).body.volume.size).toBe(2);
    await until(`/backups/${b.id}`, 'backup', 'available');
    // a 2 GiB backup does not fit a 1 GiB volume
    const big = await availableBackup({ volume_id: target.id });
    const small = await c.post(`/backups/${big.id}/restore`, { restore: { volume_id: v.id } });
    expect(small.status).toBe(400);
    expect(small.body.badRequest.message).toBe('Invalid volume: volume size 1 is too small to restore backup of size 2.');
    expect((await c.post(`/backups/${b.id}/restore`, { restore: { volume_id: randomUUID() } })).status).toBe(404);
  });

  it('export_record and import_record: the record names the posix driver; an imported copy restores; an existing id is 400', async () => {
    const v = await availableVolume(c);
    writeAt(await volumeFile(v.id), 5 * MiB, Buffer.alloc(MiB, 7));
    const b = await availableBackup({ volume_id: v.id });
    const exp = await c.get(`/backups/${b.id}/export_record`);
    expect(exp.status).toBe(200);
    expect(exp.body['backup-record'].backup_service).toBe('cinder.backup.drivers.posix.PosixBackupDriver');
    const again = await c.post('/backups/import_record', { 'backup-record': exp.body['backup-record'] });
    expect(again.status).toBe(400);
    expect(again.body.badRequest.message).toBe('Invalid backup: Backup already exists in database.');
    const rec = JSON.parse(Buffer.from(exp.body['backup-record'].backup_url, 'base64').toString());
    const newId = randomUUID();
    const url = Buffer.from(JSON.stringify({ ...rec, id: newId })).toString('base64');
    const imp = await c.post('/backups/import_record', {
      'backup-record': { backup_service: exp.body['backup-record'].backup_service, backup_url: url },
    });
    expect(imp.status).toBe(201);
    expect(imp.body.backup.id).toBe(newId);
    await until(`/backups/${newId}`, 'backup', 'available');
    expect((await c.post('/backups/import_record', { 'backup-record': { backup_service: 'x', backup_url: 'bm90IGpzb24=' } })).status).toBe(
      404,
    );
    expect(
      (
        await c.post('/backups/import_record', {
          'backup-record': { backup_service: exp.body['backup-record'].backup_service, backup_url: 'bm90IGpzb24=' },
        })
      ).status,
    ).toBe(400);
    // The original goes; the imported copy still has the data (they share the folder) and restores it.
    expect((await c.delete(`/backups/${b.id}`)).status).toBe(202);
    await waitFor(async () => (await c.get(`/backups/${b.id}`)).status === 404, 30_000, 'original gone');
    const r = await c.post(`/backups/${newId}/restore`, { restore: {} });
    const nv = await until(`/volumes/${r.body.restore.volume_id}`, 'volume', 'available');
    const data = fs.readFileSync(await volumeFile(nv.id)).subarray(5 * MiB, 6 * MiB);
    expect(data.equals(Buffer.alloc(MiB, 7))).toBe(true);
  });
});

describe('backup data', () => {
  it('full and incremental backups restore byte for byte; the incremental stores only the changed chunks; sparse both ways', async () => {
    const v = await availableVolume(c);
    const file = await volumeFile(v.id);
    const first = randomBytes(8 * MiB);
    writeAt(file, 0, first);
    writeAt(file, 700 * MiB + 12345, randomBytes(3 * MiB));
    const original = fs.readFileSync(file);
    const full = await availableBackup({ volume_id: v.id, name: 'full' });
    // 8 MiB at 0 and 3 MiB across 4 chunks at 700 MiB: 12 chunk objects + metadata
    expect(full.object_count).toBe(13);
    const fullBytes = dirBytes(path.join(backupDir(), 'default', full.id));
    expect(fullBytes).toBeLessThan(13 * MiB);

    // change a few MiB: 2 MiB inside the first data, 1 MiB in a hole far away
    writeAt(file, 3 * MiB, randomBytes(2 * MiB));
    writeAt(file, 900 * MiB, randomBytes(MiB));
    const changed = fs.readFileSync(file);
    const inc = await availableBackup({ volume_id: v.id, name: 'inc', incremental: true });
    expect(inc.is_incremental).toBe(true);
    expect(inc.object_count).toBe(4); // chunks 3, 4 and 900 + metadata
    expect(dirBytes(path.join(backupDir(), 'default', inc.id))).toBeLessThan(4 * MiB);

    for (const [b, expected] of [
      [full, original],
      [inc, changed],
    ] as const) {
      const r = await c.post(`/backups/${b.id}/restore`, { restore: { name: `r-${b.name}` } });
      expect(r.status).toBe(202);
      const nv = await until(`/volumes/${r.body.restore.volume_id}`, 'volume', 'available');
      await until(`/backups/${b.id}`, 'backup', 'available');
      const restoredFile = await volumeFile(nv.id);
      const restored = fs.readFileSync(restoredFile);
      expect(restored.length).toBe(expected.length);
      expect(restored.equals(expected)).toBe(true);
      // sparse: only the data blocks are allocated (a 1 GiB volume with at most ~14 MiB of data)
      expect(fs.statSync(restoredFile).blocks * 512).toBeLessThan(32 * MiB);
    }
  });

  it('a volume create with backup_id (3.47) is filled from the backup; before 3.47 backup_id is ignored', async () => {
    const v = await availableVolume(c);
    const data = randomBytes(3 * MiB);
    writeAt(await volumeFile(v.id), 10 * MiB, data);
    const b = await availableBackup({ volume_id: v.id });
    const res = await c.at('3.47').post('/volumes', { volume: { backup_id: b.id, size: 2, name: 'from-backup-347' } });
    expect(res.status).toBe(202);
    expect(res.body.volume).toMatchObject({ status: 'creating', size: 2, name: 'from-backup-347' });
    const nv = await until(`/volumes/${res.body.volume.id}`, 'volume', 'available');
    const file = await volumeFile(nv.id);
    expect(fs.statSync(file).size).toBe(2 * 1024 * MiB);
    const got = Buffer.alloc(3 * MiB);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, got, 0, got.length, 10 * MiB);
    } finally {
      fs.closeSync(fd);
    }
    expect(got.equals(data)).toBe(true);
    await until(`/backups/${b.id}`, 'backup', 'available');
    const old = await c.at('3.46').post('/volumes', { volume: { backup_id: b.id, size: 1 } });
    expect(old.status).toBe(202);
    expect((await until(`/volumes/${old.body.volume.id}`, 'volume', 'available')).id).toBeDefined();
    expect(fs.statSync(await volumeFile(old.body.volume.id)).blocks).toBe(0);
  });

  it('a backup of a snapshot holds the data of the snapshot; the snapshot is available again', async () => {
    const v = await availableVolume(c);
    const file = await volumeFile(v.id);
    const before = randomBytes(2 * MiB);
    writeAt(file, 0, before);
    const s = await availableSnapshot(c, v.id);
    writeAt(file, 0, randomBytes(2 * MiB)); // the volume moves on
    const b = await availableBackup({ volume_id: v.id, snapshot_id: s.id });
    expect(b.snapshot_id).toBe(s.id);
    expect((await c.get(`/snapshots/${s.id}`)).body.snapshot.status).toBe('available');
    const r = await c.post(`/backups/${b.id}/restore`, { restore: {} });
    const nv = await until(`/volumes/${r.body.restore.volume_id}`, 'volume', 'available');
    expect(
      fs
        .readFileSync(await volumeFile(nv.id))
        .subarray(0, 2 * MiB)
        .equals(before),
    ).toBe(true);
  });

  it('a corrupted chunk fails the restore: the volume goes error_restoring, the project gets a user message, the backup stays available', async () => {
    const v = await availableVolume(c);
    writeAt(await volumeFile(v.id), 0, randomBytes(3 * MiB));
    const b = await availableBackup({ volume_id: v.id });
    const chunk = path.join(backupDir(), 'default', b.id, 'chunk-000001');
    const packed = fs.readFileSync(chunk);
    packed[packed.length - 10] ^= 0xff;
    fs.writeFileSync(chunk, packed);
    const target = await availableVolume(c);
    expect((await c.post(`/backups/${b.id}/restore`, { restore: { volume_id: target.id } })).status).toBe(202);
    await until(`/volumes/${target.id}`, 'volume', 'error_restoring');
    await until(`/backups/${b.id}`, 'backup', 'available');
    const messages = (await c.get('/messages')).body.messages as any[];
    const m = messages.find((x) => x.resource_uuid === b.id);
    // Fixed words for the user (Cinder's message_field); which chunk and why stays in the task row and the log.
    expect(m).toMatchObject({
      resource_type: 'VOLUME_BACKUP',
      event_id: 'VOLUME_VOLUME_BACKUP_015_028',
      user_message: 'restore backup:Backup driver failed to restore backup.',
    });
  });
});
