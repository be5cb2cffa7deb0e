/**
 * Volume transfers: offer (awaiting-transfer), list/show, cancel, and accept
 * by another project with the auth key, which moves the volume, its snapshots
 * and their quota usage in one transaction; both os-volume-transfer and
 * volume-transfers (3.55+).
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '../helpers/cairn';
import { personas, type WhoOf } from '../helpers/personas';

const PA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa41';
const PB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb42';
const team = personas(
  {
    a: { user: 'ua', project: PA, roles: ['member', 'reader'] },
    b: { user: 'ub', project: PB, roles: ['member', 'reader'] },
    bReader: { user: 'ub-r', project: PB, roles: ['reader'] },
    admin: { user: 'adm', project: 'cccccccccccccccccccccccccccccc43', roles: ['admin', 'member', 'reader'] },
  },
  { mv: '3.0' },
);

type Who = WhoOf<typeof team>;
const call = team.call;
const volumeOf = async (who: Who, id: string) => (await call(who, 'get', `/volumes/${id}`)).body.volume;
const usage = async (p: string) => (await call('admin', 'get', `/os-quota-sets/${p}?usage=True`, undefined, null)).body.quota_set;

async function availableVolume(size = 1): Promise<any> {
  const res = await call('a', 'post', '/volumes', { volume: { size } });
  expect(res.status).toBe(202);
  return waitFor(async () => {
    const v = await volumeOf('a', res.body.volume.id);
    return v?.status === 'available' && v;
  }, 30_000);
}
async function availableSnapshot(volumeId: string): Promise<any> {
  const res = await call('a', 'post', '/snapshots', { snapshot: { volume_id: volumeId } });
  expect(res.status).toBe(202);
  await waitFor(async () => (await call('a', 'get', `/snapshots/${res.body.snapshot.id}`)).body.snapshot?.status === 'available', 30_000);
  return res.body.snapshot;
}

describe('os-volume-transfer', () => {
  it("create → 202 with the auth key; the volume is awaiting-transfer; show, list and detail have Cinder's keys", async () => {
    const v = await availableVolume();
    const res = await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id, name: ' t1 ' } });
    expect(res.status).toBe(202);
    const t = res.body.transfer;
    expect(Object.keys(t).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id']);
    expect(t).toMatchObject({ name: 't1', volume_id: v.id, auth_key: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(t.links[0].href).toBe(`${team.cairn().url}/v3/${PA}/os-volume-transfer/${t.id}`);
    expect((await volumeOf('a', v.id)).status).toBe('awaiting-transfer');
    const shown = (await call('a', 'get', `/os-volume-transfer/${t.id}`)).body.transfer;
    expect(Object.keys(shown).sort()).toEqual(['created_at', 'id', 'links', 'name', 'volume_id']);
    expect((await call('a', 'get', '/os-volume-transfer')).body.transfers).toContainEqual({
      id: t.id,
      name: 't1',
      volume_id: v.id,
      links: t.links,
    });
    expect((await call('a', 'get', '/os-volume-transfer/detail')).body.transfers).toContainEqual(shown);
    // The auth key is never stored: only a salted hash.
    const row = await team.cairn().db('transfers').where({ id: t.id }).first();
    expect(JSON.stringify(row)).not.toContain(t.auth_key);
    // Another project neither sees nor cancels it; the volume cannot be deleted or offered twice meanwhile.
    expect((await call('b', 'get', `/os-volume-transfer/${t.id}`)).status).toBe(404);
    expect((await call('b', 'get', '/os-volume-transfer')).body.transfers).toEqual([]);
    expect((await call('b', 'delete', `/os-volume-transfer/${t.id}`)).status).toBe(404);
    expect((await call('a', 'delete', `/volumes/${v.id}`)).status).toBe(400);
    expect((await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id } })).body).toEqual({
      badRequest: { code: 400, message: 'Invalid volume: status must be available' },
    });
  });

  it('delete cancels it: 202, the volume is available again, the transfer 404', async () => {
    const v = await availableVolume();
    const t = (await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id } })).body.transfer;
    expect((await call('a', 'delete', `/os-volume-transfer/${t.id}`)).status).toBe(202);
    expect((await volumeOf('a', v.id)).status).toBe('available');
    expect((await call('a', 'get', `/os-volume-transfer/${t.id}`)).body).toEqual({
      itemNotFound: { code: 404, message: `Transfer ${t.id} could not be found.` },
    });
  });

  it('accept by another project: the volume, its snapshots and their usage move there; the transfer is gone', async () => {
    const v = await availableVolume(2);
    const s = await availableSnapshot(v.id);
    const [beforeA, beforeB] = [await usage(PA), await usage(PB)];
    const t = (await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id } })).body.transfer;
    const bad = await call('b', 'post', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: 'wrong' } });
    expect({ status: bad.status, body: bad.body }).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: `Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.` } },
    });
    expect((await call('bReader', 'post', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } })).status).toBe(403);
    const res = await call('b', 'post', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ transfer: { id: t.id, name: null, volume_id: v.id, links: expect.any(Array) } });
    const moved = await volumeOf('admin', v.id);
    expect(moved).toMatchObject({ status: 'available', user_id: 'ub', 'os-vol-tenant-attr:tenant_id': PB });
    expect((await call('a', 'get', `/volumes/${v.id}`)).status).toBe(404);
    expect((await call('b', 'get', `/snapshots/${s.id}`)).body.snapshot['os-extended-snapshot-attributes:project_id']).toBe(PB);
    const [afterA, afterB] = [await usage(PA), await usage(PB)];
    expect(afterA.volumes.in_use).toBe(beforeA.volumes.in_use - 1);
    expect(afterB.volumes.in_use).toBe(beforeB.volumes.in_use + 1);
    expect(afterA.gigabytes.in_use).toBe(beforeA.gigabytes.in_use - 4); // the volume's 2 GiB and its snapshot's
    expect(afterB.gigabytes.in_use).toBe(beforeB.gigabytes.in_use + 4);
    expect(afterB.snapshots.in_use).toBe(beforeB.snapshots.in_use + 1);
    expect((await call('a', 'get', `/os-volume-transfer/${t.id}`)).status).toBe(404);
    expect((await call('b', 'post', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } })).status).toBe(404);
  });

  it("accept over the recipient's quota is Cinder's 413 and changes nothing", async () => {
    const v = await availableVolume(3);
    const t = (await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id } })).body.transfer;
    const limit = (await usage(PB)).gigabytes.in_use + 2;
    expect((await call('admin', 'put', `/os-quota-sets/${PB}`, { quota_set: { gigabytes: limit } }, null)).status).toBe(200);
    const res = await call('b', 'post', `/os-volume-transfer/${t.id}/accept`, { accept: { auth_key: t.auth_key } });
    expect(res.status).toBe(413);
    expect(res.body.overLimit.message).toMatch(
      /^VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\./,
    );
    expect((await volumeOf('a', v.id)).status).toBe('awaiting-transfer');
    expect((await call('a', 'get', `/os-volume-transfer/${t.id}`)).status).toBe(200);
    await call('admin', 'put', `/os-quota-sets/${PB}`, { quota_set: { gigabytes: -1 } }, null);
  });

  it('a volume with a snapshot that is not available is refused; an unknown volume is 404', async () => {
    const v = await availableVolume();
    const s = await availableSnapshot(v.id);
    await call('admin', 'post', `/snapshots/${s.id}/action`, { 'os-reset_status': { status: 'error' } }, null);
    const res = await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id } });
    expect(res.status).toBe(400);
    expect((await volumeOf('a', v.id)).status).toBe('available');
    const id = randomUUID();
    expect((await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: id } })).body).toEqual({
      itemNotFound: { code: 404, message: `Volume ${id} could not be found.` },
    });
    expect((await call('a', 'post', '/os-volume-transfer', { transfer: { volume_id: v.id, no_snapshots: true } })).status).toBe(400);
  });
});

describe('volume-transfers (3.55+)', () => {
  it('is not there before 3.55; adds no_snapshots at 3.55 and the projects and accepted at 3.57', async () => {
    expect((await call('a', 'get', '/volume-transfers', undefined, '3.54')).status).toBe(404);
    const v = await availableVolume();
    const c55 = await call('a', 'post', '/volume-transfers', { transfer: { volume_id: v.id } }, '3.55');
    expect(c55.status).toBe(202);
    expect(Object.keys(c55.body.transfer).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'no_snapshots', 'volume_id']);
    expect(c55.body.transfer.links[0].href).toContain('/volume-transfers/');
    const t = c55.body.transfer;
    const shown = (await call('a', 'get', `/volume-transfers/${t.id}`, undefined, '3.57')).body.transfer;
    expect(shown).toMatchObject({ no_snapshots: false, source_project_id: PA, destination_project_id: null, accepted: false });
    expect((await call('a', 'get', '/volume-transfers', undefined, '3.57')).body.transfers[0]).toEqual({
      id: t.id,
      name: null,
      volume_id: v.id,
      links: t.links,
    });
    expect((await call('a', 'delete', `/volume-transfers/${t.id}`, undefined, '3.57')).status).toBe(202);
    expect((await volumeOf('a', v.id)).status).toBe('available');
  });

  it('no_snapshots: the snapshots stay with the donor, and only the volume counts for the recipient', async () => {
    const v = await availableVolume();
    const s = await availableSnapshot(v.id);
    const t = (await call('a', 'post', '/volume-transfers', { transfer: { volume_id: v.id, no_snapshots: true } }, '3.55')).body.transfer;
    expect(t.no_snapshots).toBe(true);
    const beforeB = await usage(PB);
    expect((await call('b', 'post', `/volume-transfers/${t.id}/accept`, { accept: { auth_key: t.auth_key } }, '3.57')).status).toBe(202);
    expect((await volumeOf('b', v.id)).status).toBe('available');
    expect((await call('a', 'get', `/snapshots/${s.id}`)).status).toBe(200);
    expect((await usage(PB)).snapshots.in_use).toBe(beforeB.snapshots.in_use);
  });

  it("an admin lists every project's transfers with all_tenants", async () => {
    const v = await availableVolume();
    const t = (await call('a', 'post', '/volume-transfers', { transfer: { volume_id: v.id } }, '3.55')).body.transfer;
    expect((await call('admin', 'get', '/volume-transfers', undefined, '3.55')).body.transfers.map((x: any) => x.id)).not.toContain(t.id);
    expect(
      (await call('admin', 'get', '/volume-transfers?all_tenants=1', undefined, '3.55')).body.transfers.map((x: any) => x.id),
    ).toContain(t.id);
    await call('a', 'delete', `/volume-transfers/${t.id}`, undefined, '3.55');
  });
});
