import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { availableSnapshot, availableVolume, client, keyDiff, recorded, untilStatus, type Client } from '../helpers/snapshots';

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

const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const gone = (p: string) => waitFor(async () => (await c.get(p)).status === 404, 20_000, `${p} gone`);

/** A volume with an attachment reserved and connected: `in-use`. */
async function inUseVolume(): Promise<any> {
  const v = await availableVolume(c);
  const att = await c.post('/attachments', {
    attachment: { volume_uuid: v.id, instance_uuid: randomUUID(), connector: { host: 'h1', initiator: 'iqn.x' } },
  });
  expect(att.status).toBe(200);
  expect((await c.post(`/attachments/${att.body.attachment.id}/action`, { 'os-complete': {} })).status).toBe(204);
  return untilStatus(c, `/volumes/${v.id}`, 'volume', 'in-use');
}

describe('snapshots API', () => {
  it('create answers 202 creating; the worker copies the volume to <dir>/snapshot-<id> and makes it available', async () => {
    const v = await availableVolume(c);
    const res = await c.post('/snapshots', { snapshot: { volume_id: v.id, name: 'snap-1', description: 'first', metadata: { k: 'v' } } });
    expect(res.status).toBe(202);
    expect(res.body.snapshot).toMatchObject({
      status: 'creating',
      size: 1,
      name: 'snap-1',
      description: 'first',
      volume_id: v.id,
      metadata: { k: 'v' },
      updated_at: null,
    });
    const s = await untilStatus(c, `/snapshots/${res.body.snapshot.id}`, 'snapshot', 'available');
    expect(s['os-extended-snapshot-attributes:progress']).toBe('100%');
    const file = path.join(dir(), `snapshot-${s.id}`);
    expect(fs.statSync(file).size).toBe(1024 ** 3);
    expect((await cairn.db('snapshots').where({ id: s.id }).first()).provider_location).toBe(file);
  });

  it('create, show, list, detail, update and metadata have the key sets of the recorded Cinder 21 exchanges', async () => {
    const v = await availableVolume(c);
    const created = await c.post('/snapshots', { snapshot: { volume_id: v.id, name: 'shape', description: 'd', metadata: { k: 'v' } } });
    expect(keyDiff(recorded('snapshots_create').body, created.body)).toEqual([]);
    const id = created.body.snapshot.id;
    await untilStatus(c, `/snapshots/${id}`, 'snapshot', 'available');
    expect(keyDiff(recorded('snapshots_show').body, (await c.get(`/snapshots/${id}`)).body)).toEqual([]);
    expect(keyDiff(recorded('snapshots_list').body, (await c.get(`/snapshots?volume_id=${v.id}`)).body)).toEqual([]);
    expect(keyDiff(recorded('snapshots_detail').body, (await c.get(`/snapshots/detail?volume_id=${v.id}`)).body)).toEqual([]);
    const upd = await c.put(`/snapshots/${id}`, { snapshot: { name: 'renamed' } });
    expect(upd.status).toBe(200);
    expect(upd.body.snapshot.name).toBe('renamed');
    expect(keyDiff(recorded('snapshots_update').body, upd.body)).toEqual([]);
    expect(keyDiff(recorded('snapshots_metadata_list').body, (await c.get(`/snapshots/${id}/metadata`)).body)).toEqual([]);
  });

  it('detail keys follow the microversion: group_snapshot_id from 3.14, user_id from 3.41, consumes_quota from 3.65', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    const keys = async (mv: string) => Object.keys((await c.at(mv).get(`/snapshots/${s.id}`)).body.snapshot);
    const base = [
      'id',
      'created_at',
      'updated_at',
      'name',
      'description',
      'volume_id',
      'status',
      'size',
      'metadata',
      'os-extended-snapshot-attributes:project_id',
      'os-extended-snapshot-attributes:progress',
    ];
    expect((await keys('3.0')).sort()).toEqual([...base].sort());
    expect((await keys('3.14')).sort()).toEqual([...base, 'group_snapshot_id'].sort());
    expect((await keys('3.41')).sort()).toEqual([...base, 'group_snapshot_id', 'user_id'].sort());
    expect((await keys('3.65')).sort()).toEqual([...base, 'group_snapshot_id', 'user_id', 'consumes_quota'].sort());
  });

  it('an in-use volume needs force before 3.66; from 3.66 it needs none and force=false is refused', async () => {
    const v = await inUseVolume();
    const old = c.at('3.65');
    const refused = await old.post('/snapshots', { snapshot: { volume_id: v.id } });
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toBe(`Invalid volume: Volume ${v.id} status must be available, but current status is: in-use.`);
    expect((await old.post('/snapshots', { snapshot: { volume_id: v.id, force: 'True' } })).status).toBe(202);
    expect((await c.post('/snapshots', { snapshot: { volume_id: v.id } })).status).toBe(202);
    expect((await c.post('/snapshots', { snapshot: { volume_id: v.id, force: true } })).status).toBe(202);
    const f = await c.post('/snapshots', { snapshot: { volume_id: v.id, force: false } });
    expect(f.status).toBe(400);
    expect(f.body.badRequest.message).toBe(
      "Since microversion 3.66 the 'force' flag is invalid for this request. " +
        "For backward compatibility, however, a 'true' value is accepted, but a 'false' value is rejected.",
    );
  });

  it("a missing snapshot is Cinder's 404; a snapshot of a missing volume names the volume", async () => {
    const missing = recorded('error_snapshot_not_found');
    const res = await c.get('/snapshots/53fce896-4deb-4115-8c06-063316a7e2ca');
    expect({ status: res.status, body: res.body }).toEqual({ status: missing.status, body: missing.body });
    const id = randomUUID();
    const create = await c.post('/snapshots', { snapshot: { volume_id: id } });
    expect({ status: create.status, body: create.body }).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Volume ${id} could not be found.` } },
    });
    // Cinder's schema allows a null volume_id (uuid_allow_null): then it is the volume "None" that is not found.
    const none = await c.post('/snapshots', { snapshot: { volume_id: null, name: 'n' } });
    expect({ status: none.status, body: none.body }).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: 'Volume None could not be found.' } },
    });
    expect((await c.post('/snapshots', { snapshot: { name: 'n' } })).status).toBe(400);
  });

  it('delete answers 202, removes the row and the file', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    const file = path.join(dir(), `snapshot-${s.id}`);
    expect(fs.existsSync(file)).toBe(true);
    expect((await c.delete(`/snapshots/${s.id}`)).status).toBe(202);
    await gone(`/snapshots/${s.id}`);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('delete of a snapshot neither available nor error → 400; os-force_delete (admin) deletes it anyway', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    expect((await c.post(`/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'creating' } })).status).toBe(202);
    const del = await c.delete(`/snapshots/${s.id}`);
    expect(del.status).toBe(400);
    expect(del.body.badRequest.message).toBe(
      'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.',
    );
    expect((await c.post(`/snapshots/${s.id}/action`, { 'os-force_delete': {} })).status).toBe(202);
    await gone(`/snapshots/${s.id}`);
  });

  it('os-reset_status sets any known status (lower-cased) and refuses an unknown one; an unknown action is named', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    expect((await c.post(`/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'ERROR' } })).status).toBe(202);
    expect((await c.get(`/snapshots/${s.id}`)).body.snapshot.status).toBe('error');
    const bad = await c.post(`/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'bogus' } });
    expect({ status: bad.status, message: bad.body.badRequest?.message }).toEqual({ status: 400, message: 'Must specify a valid status' });
    const unknown = await c.post(`/snapshots/${s.id}/action`, { 'os-bogus': {} });
    expect(unknown.body.badRequest.message).toBe(
      'There is no such action: os-bogus. Verify the request body and Content-Type header and try again.',
    );
  });

  it("metadata: POST merges, PUT replaces, items show/update/delete, with Cinder's refusals", async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id, { metadata: { a: '1' } });
    const md = `/snapshots/${s.id}/metadata`;
    expect((await c.post(md, { metadata: { b: '2' } })).body).toEqual({ metadata: { a: '1', b: '2' } });
    expect((await c.put(md, { metadata: { c: '3' } })).body).toEqual({ metadata: { c: '3' } });
    expect((await c.get(`${md}/c`)).body).toEqual({ meta: { c: '3' } });
    expect((await c.put(`${md}/c`, { meta: { c: '4' } })).body).toEqual({ meta: { c: '4' } });
    expect((await c.put(`${md}/c`, { meta: { d: '4' } })).body.badRequest.message).toBe('Request body and URI mismatch');
    expect((await c.delete(`${md}/c`)).status).toBe(200);
    expect((await c.get(`${md}/c`)).body.itemNotFound.message).toBe('Metadata item was not found');
    expect((await c.get(md)).body).toEqual({ metadata: {} });
  });

  it('lists filter by volume_id, name and status, page with limit/marker (snapshots_links) and count with with_count', async () => {
    const v = await availableVolume(c);
    const [s1, s2] = [await availableSnapshot(c, v.id, { name: 'one' }), await availableSnapshot(c, v.id, { name: 'two' })];
    const all = (await c.get(`/snapshots?volume_id=${v.id}`)).body.snapshots.map((s: any) => s.id);
    expect(all).toEqual([s2.id, s1.id]);
    expect((await c.get(`/snapshots?volume_id=${v.id}&name=one`)).body.snapshots.map((s: any) => s.id)).toEqual([s1.id]);
    expect((await c.get(`/snapshots?volume_id=${v.id}&status=error`)).body.snapshots).toEqual([]);
    const page = await c.get(`/snapshots/detail?volume_id=${v.id}&limit=1&with_count=true`);
    expect(page.body.snapshots.map((s: any) => s.id)).toEqual([s2.id]);
    expect(page.body.count).toBe(2);
    const next = new URL(page.body.snapshots_links[0].href);
    expect(next.searchParams.get('marker')).toBe(s2.id);
    expect((await c.get(`/snapshots/detail?volume_id=${v.id}&limit=1&marker=${s2.id}`)).body.snapshots.map((s: any) => s.id)).toEqual([
      s1.id,
    ]);
    expect((await c.get(`/snapshots?marker=${randomUUID()}`)).status).toBe(404);
    expect((await c.get('/snapshots?bogus=1')).body.badRequest.message).toBe('Invalid filters bogus are found in query options.');
  });
});

describe('volumes with snapshots', () => {
  it("delete of a volume with snapshots → Cinder's recorded 400", async () => {
    const v = await availableVolume(c);
    await availableSnapshot(c, v.id);
    const res = await c.delete(`/volumes/${v.id}`);
    const rec = recorded('error_delete_volume_with_snapshot');
    expect({ status: res.status, body: res.body }).toEqual({ status: rec.status, body: rec.body });
  });

  it('cascade=true deletes the snapshots with the volume: rows and files', async () => {
    const v = await availableVolume(c);
    const snaps = [await availableSnapshot(c, v.id), await availableSnapshot(c, v.id)];
    expect((await c.post(`/snapshots/${snaps[1].id}/action`, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
    expect((await c.delete(`/volumes/${v.id}?cascade=true`)).status).toBe(202);
    expect((await c.get(`/snapshots/${snaps[0].id}`)).body.snapshot.status).toBe('deleting');
    await gone(`/volumes/${v.id}`);
    for (const s of snaps) expect((await c.get(`/snapshots/${s.id}`)).status).toBe(404);
    expect(fs.readdirSync(dir()).filter((f) => f.includes(v.id) || snaps.some((s) => f.includes(s.id)))).toEqual([]);
  });

  it('cascade refuses while a snapshot is neither available nor error', async () => {
    const v = await availableVolume(c);
    const s = await availableSnapshot(c, v.id);
    await c.post(`/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'error_deleting' } });
    const res = await c.delete(`/volumes/${v.id}?cascade=true`);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(recorded('error_delete_volume_with_snapshot').body.badRequest.message);
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('available');
  });

  it("snapshots count in quota (snapshots and gigabytes); over the limit → Cinder's SnapshotLimitExceeded", async () => {
    const p = client(cairn.url, { project: randomBytes(16).toString('hex') });
    const v = await availableVolume(p, { size: 2 });
    await availableSnapshot(p, v.id);
    const usage = (await p.get(`/os-quota-sets/${p.project}?usage=True`)).body.quota_set;
    expect(usage.snapshots).toMatchObject({ in_use: 1 });
    expect(usage.gigabytes).toMatchObject({ in_use: 4 });
    expect(usage.snapshots___DEFAULT__).toMatchObject({ in_use: 1 });
    expect((await p.put(`/os-quota-sets/${p.project}`, { quota_set: { snapshots: 1 } })).status).toBe(200);
    const over = await p.post('/snapshots', { snapshot: { volume_id: v.id } });
    expect(over.status).toBe(413);
    expect(over.body).toEqual({
      overLimit: { code: 413, message: 'SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded', retryAfter: '0' },
    });
    expect(recorded('error_over_quota_snapshots').body.overLimit.message).toMatch(
      /^SnapshotLimitExceeded: Maximum number of snapshots allowed \(\d+\) exceeded$/,
    );
  });
});
