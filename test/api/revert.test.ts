import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, type TestCairn } from '../helpers/cairn';
import { availableSnapshot, availableVolume, client, readAt, untilStatus, volumeFile, writeAt, type Client } from '../helpers/snapshots';

let cairn: TestCairn;
let c: Client;
beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  c = client(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const revert = (volumeId: string, snapshotId: string, cl: Client = c) =>
  cl.post(`/volumes/${volumeId}/action`, { revert: { snapshot_id: snapshotId } });
const snapshotFile = async (id: string) => (await cairn.db('snapshots').where({ id }).first()).provider_location as string;

describe('revert to the latest snapshot (3.40)', () => {
  it("puts the snapshot's bytes back into the volume: reverting, then available; the snapshot stays", async () => {
    const v = await availableVolume(c);
    const file = await volumeFile(cairn.db, v.id);
    writeAt(file, 4096, 'as snapshotted');
    const s = await availableSnapshot(c, v.id);
    writeAt(file, 4096, 'written later!');
    writeAt(file, 512 * 1024 ** 2, 'also later');
    const res = await revert(v.id, s.id);
    expect(res.status).toBe(202);
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toMatch(/^(reverting|available)$/);
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'available');
    expect((await c.get(`/snapshots/${s.id}`)).body.snapshot.status).toBe('available');
    const now = await volumeFile(cairn.db, v.id);
    expect(readAt(now, 4096, 14).toString()).toBe('as snapshotted');
    expect(readAt(now, 512 * 1024 ** 2, 10).equals(Buffer.alloc(10))).toBe(true);
    expect(fs.statSync(now).size).toBe(1024 ** 3);
  });

  it('below 3.40 the action does not exist (404)', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    const res = await revert(v.id, s.id, c.at('3.39'));
    expect({ status: res.status, body: res.body }).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: 'The resource could not be found.' } },
    });
  });

  it("only the latest snapshot, of the volume's size: Cinder's 400 texts", async () => {
    const v = await availableVolume(c);
    const none = await revert(v.id, randomUUID());
    expect(none.body.badRequest.message).toBe(`Volume ${v.id} doesn't have any snapshots.`);
    const older = await availableSnapshot(c, v.id);
    const latest = await availableSnapshot(c, v.id);
    const notLatest = await revert(v.id, older.id);
    expect(notLatest.body.badRequest.message).toBe(`Specified snapshot ${older.id} is None or not the latest one of volume ${v.id}.`);
    await cairn.db('volumes').where({ id: v.id }).update({ size: 2 }); // as if extended since
    const sized = await revert(v.id, latest.id);
    expect(sized.body.badRequest.message).toBe(
      `Can't revert volume ${v.id} to its latest snapshot ${latest.id}. The volume size must be equal to the snapshot size.`,
    );
  });

  it("a volume or snapshot in another status → 409 with the exception's text, and nothing moves", async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    const att = await c.post('/attachments', { attachment: { volume_uuid: v.id, instance_uuid: randomUUID() } });
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('reserved');
    const busy = await revert(v.id, s.id);
    expect({ status: busy.status, body: busy.body }).toEqual({
      status: 409,
      body: {
        conflictingRequest: {
          code: 409,
          message: `Invalid volume: Can't revert volume ${v.id} to snapshot ${s.id}. Volume's status must be 'available'.`,
        },
      },
    });
    await c.delete(`/attachments/${att.body.attachment.id}`);
    await c.post(`/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'error' } });
    const bad = await revert(v.id, s.id);
    expect(bad.status).toBe(409);
    expect(bad.body.conflictingRequest.message).toBe(
      `Invalid snapshot: Can't revert volume ${v.id} to snapshot ${s.id}. Snapshot's status must be 'available'.`,
    );
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('available');
  });

  it('a revert the driver cannot do leaves the volume in error and the snapshot available, with a user message', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    fs.rmSync(await snapshotFile(s.id));
    expect((await revert(v.id, s.id)).status).toBe(202);
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'error');
    expect((await c.get(`/snapshots/${s.id}`)).body.snapshot.status).toBe('available');
    const [msg] = await cairn.db('messages').where({ resource_uuid: v.id });
    expect(msg.user_message).toBe('revert volume to snapshot:The data to copy is missing from the storage backend.');
    expect((await cairn.db('tasks').where({ resource_id: v.id, kind: 'volume.revert' }).first()).last_error).toMatch(
      /^the data of snapshot .* is missing/,
    );
  });

  it('a volume with a snapshot being restored from cannot be deleted, even with cascade', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    await c.post(`/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'restoring' } });
    expect((await c.delete(`/volumes/${v.id}?cascade=true`)).status).toBe(400);
  });
});
