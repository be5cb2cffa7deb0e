import fs from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, type TestCairn } from '../helpers/cairn';
import {
  availableSnapshot,
  availableVolume,
  client,
  keyDiff,
  readAt,
  recorded,
  untilStatus,
  volumeFile,
  writeAt,
  type Client,
} from '../helpers/snapshots';

let cairn: TestCairn;
let c: Client;
// Two backends: a type placed on "other" cannot hold a copy of a volume on "file".
beforeAll(async () => {
  cairn = await startTestCairn({ CAIRN_BACKENDS: 'file,other' });
  await liftQuotas(cairn.url);
  c = client(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

async function fromSource(body: Record<string, unknown>): Promise<any> {
  const res = await c.post('/volumes', { volume: body });
  expect(res.status).toBe(202);
  return untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'available');
}

describe('volumes from a snapshot or a volume', () => {
  it('copies the bytes: a pattern written into a volume is in its snapshot, its clone and a volume from the snapshot', async () => {
    const v = await availableVolume(c, { name: 'origin' });
    const file = await volumeFile(cairn.db, v.id);
    const pattern = randomBytes(3 * MiB + 17);
    const offsets = [0, 5 * MiB + 4097, GiB - pattern.length];
    for (const at of offsets) writeAt(file, at, pattern);

    const snap = await availableSnapshot(c, v.id);
    const snapFile = (await cairn.db('snapshots').where({ id: snap.id }).first()).provider_location as string;
    const clone = await fromSource({ source_volid: v.id, name: 'clone' });
    // After the snapshot, the origin changes: a volume from the snapshot must still have the old bytes.
    writeAt(file, 0, Buffer.alloc(pattern.length, 0xff));
    const restored = await fromSource({ snapshot_id: snap.id, size: 2, name: 'from-snap' });

    const copies = {
      snapshot: snapFile,
      clone: await volumeFile(cairn.db, clone.id),
      fromSnapshot: await volumeFile(cairn.db, restored.id),
    };
    for (const [what, f] of Object.entries(copies)) {
      for (const at of offsets) expect({ what, at, same: readAt(f, at, pattern.length).equals(pattern) }).toEqual({ what, at, same: true });
      // Holes stay holes: three patterns' worth of data, not a gigabyte.
      expect({ what, allocatedMiB: Math.ceil((fs.statSync(f).blocks * 512) / MiB) <= 16 }).toEqual({ what, allocatedMiB: true });
    }
    expect(fs.statSync(copies.clone).size).toBe(GiB);
    expect(fs.statSync(copies.fromSnapshot).size).toBe(2 * GiB);
    expect(readAt(copies.fromSnapshot, GiB, 4096).equals(Buffer.alloc(4096))).toBe(true);
    expect(readAt(copies.clone, 0, 16).equals(pattern.subarray(0, 16))).toBe(true);
  });

  it('records the source, takes its size, type and bootable flag; responses have the recorded Cinder keys', async () => {
    await c.post('/types', { volume_type: { name: 'src-type' } });
    const v = await availableVolume(c, { volume_type: 'src-type' });
    await cairn.db('volumes').where({ id: v.id }).update({ bootable: true });
    const snap = await availableSnapshot(c, v.id);
    const res = await c.post('/volumes', { volume: { snapshot_id: snap.id, name: 'from-snap' } });
    expect(res.status).toBe(202);
    expect(res.body.volume).toMatchObject({
      snapshot_id: snap.id,
      source_volid: null,
      size: 1,
      volume_type: 'src-type',
      bootable: 'true',
      status: 'creating',
    });
    expect(keyDiff(recorded('volumes_create_from_snapshot').body, res.body)).toEqual([]);
    const clone = await c.post('/volumes', { volume: { source_volid: v.id, size: 2, name: 'clone' } });
    expect(clone.body.volume).toMatchObject({ snapshot_id: null, source_volid: v.id, size: 2, volume_type: 'src-type', bootable: 'true' });
    expect(keyDiff(recorded('volumes_create_clone').body, clone.body)).toEqual([]);
    const shown = await untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'available');
    expect(keyDiff(recorded('volumes_show_from_snapshot').body.volume, shown)).toEqual([]);
    await untilStatus(c, `/volumes/${clone.body.volume.id}`, 'volume', 'available');
  });

  it("a size below the source's → Cinder's 400 texts", async () => {
    const v = await availableVolume(c);
    const snap = await availableSnapshot(c, v.id);
    // Sizes as if both were 2 GiB, without copying 2 GiB.
    await cairn.db('volumes').where({ id: v.id }).update({ size: 2 });
    await cairn.db('snapshots').where({ id: snap.id }).update({ size: 2 });
    const small = await c.post('/volumes', { volume: { snapshot_id: snap.id, size: 1 } });
    expect(small.body.badRequest.message).toBe(
      "Invalid input received: Volume size '1'GB cannot be smaller than the snapshot size 2GB. They must be >= original snapshot size.",
    );
    const smallClone = await c.post('/volumes', { volume: { source_volid: v.id, size: 1 } });
    expect(smallClone.body.badRequest.message).toBe(
      "Invalid input received: Volume size '1'GB cannot be smaller than original volume size  2GB. They must be >= original volume size.",
    );
  });

  it('the source must exist (404), be usable (400), and be the only one', async () => {
    const missing = randomUUID();
    expect((await c.post('/volumes', { volume: { snapshot_id: missing } })).body).toEqual({
      itemNotFound: { code: 404, message: `Snapshot ${missing} could not be found.` },
    });
    expect((await c.post('/volumes', { volume: { source_volid: missing } })).body).toEqual({
      itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` },
    });
    const v = await availableVolume(c);
    const snap = await availableSnapshot(c, v.id);
    const both = await c.post('/volumes', { volume: { snapshot_id: snap.id, source_volid: v.id } });
    expect(both.body.badRequest.message).toBe('Invalid input received: May specify only one of backup, imageRef, snapshot, source volume');
    await c.post(`/snapshots/${snap.id}/action`, { 'os-reset_status': { status: 'error' } });
    expect((await c.post('/volumes', { volume: { snapshot_id: snap.id } })).body.badRequest.message).toBe(
      "Invalid snapshot: Originating snapshot status must be one of 'available' values",
    );
    await cairn.db('volumes').where({ id: v.id }).update({ status: 'error' });
    expect((await c.post('/volumes', { volume: { source_volid: v.id } })).body.badRequest.message).toBe(
      "Invalid volume: Originating source volume status must be one of 'available, in-use' values",
    );
  });

  it("a type the source's backend cannot hold → 400; another type of the same backend is taken", async () => {
    const onOther = (await c.post('/types', { volume_type: { name: 'on-other', extra_specs: { volume_backend_name: 'other' } } })).body
      .volume_type;
    await c.post('/types', { volume_type: { name: 'plain' } });
    const v = await availableVolume(c);
    const snap = await availableSnapshot(c, v.id);
    const clone = await c.post('/volumes', { volume: { source_volid: v.id, volume_type: 'on-other' } });
    expect(clone.body.badRequest.message).toBe(
      `Invalid input received: Invalid volume_type provided: ${onOther.id} (requested type is not compatible; either match source volume, or omit type argument).`,
    );
    const fromSnap = await c.post('/volumes', { volume: { snapshot_id: snap.id, volume_type: 'on-other' } });
    expect(fromSnap.body.badRequest.message).toBe(
      `Invalid input received: Invalid volume_type provided: ${onOther.id} (requested type is not compatible; recommend omitting the type argument).`,
    );
    const plain = await c.post('/volumes', { volume: { source_volid: v.id, volume_type: 'plain' } });
    expect(plain.status).toBe(202);
    expect(plain.body.volume.volume_type).toBe('plain');
    await untilStatus(c, `/volumes/${plain.body.volume.id}`, 'volume', 'available');
  });

  it('a source with a volume still being made from it cannot be deleted', async () => {
    const v = await availableVolume(c);
    const snap = await availableSnapshot(c, v.id);
    const clone = await fromSource({ source_volid: v.id });
    const restored = await fromSource({ snapshot_id: snap.id });
    // As if their copies had not run yet.
    await cairn.db('volumes').whereIn('id', [clone.id, restored.id]).update({ status: 'creating' });
    const delVol = await c.delete(`/volumes/${v.id}?cascade=true`);
    expect(delVol.body.badRequest.message).toMatch(
      new RegExp(`^Invalid volume: Volume ${v.id} is the source of volume .*, which is still being created\\.$`),
    );
    const delSnap = await c.delete(`/snapshots/${snap.id}`);
    expect(delSnap.body.badRequest.message).toBe(
      `Invalid snapshot: Snapshot ${snap.id} is the source of volume ${restored.id}, which is still being created.`,
    );
    await cairn.db('volumes').whereIn('id', [clone.id, restored.id]).update({ status: 'available' });
    expect((await c.delete(`/snapshots/${snap.id}`)).status).toBe(202);
  });

  it('a copy the driver cannot make ends in error with a user message', async () => {
    const v = await availableVolume(c);
    const snap = await availableSnapshot(c, v.id);
    fs.rmSync((await cairn.db('snapshots').where({ id: snap.id }).first()).provider_location);
    const res = await c.post('/volumes', { volume: { snapshot_id: snap.id } });
    await untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'error');
    const [msg] = await cairn.db('messages').where({ resource_uuid: res.body.volume.id });
    expect(msg.user_message).toBe('create volume from backend storage:The data to copy is missing from the storage backend.');
  });
});
