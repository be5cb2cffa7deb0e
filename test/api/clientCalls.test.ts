/**
 * Calls the real clients make that Cinder and Glance answer (issue 15):
 * `limits?tenant_id=` (Horizon, 3.55), `"volume_type": ""` (Horizon's
 * volume-from-snapshot form), `resource_filters` (3.33), query keys an
 * operation ignores, repeated filter keys, and Glance's deactivate /
 * reactivate, schemas and metadefs namespaces (glanceclient, Horizon).
 */
import request from 'supertest';
import { liftQuotas, PROJECT, startTestCairn, TOKEN, type TestCairn } from '../helpers/cairn';
import { glance, imageBytes } from '../helpers/images';
import { availableVolume, client, untilStatus, type Client } from '../helpers/snapshots';

const OTHER = 'abcdef0123456789abcdef0123456789';

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

const at = (v: string, p: string) =>
  request(cairn.url)
    .get(`/v3/${PROJECT}${p}`)
    .set({ 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': `volume ${v}` });

describe('volume API', () => {
  it("limits: an admin's tenant_id / project_id name another project from 3.39; before, and other keys, are ignored", async () => {
    const put = await request(cairn.url)
      .put(`/v3/${PROJECT}/os-quota-sets/${OTHER}`)
      .set({ 'X-Auth-Token': TOKEN })
      .send({ quota_set: { volumes: 7 } });
    expect(put.status).toBe(200);
    const horizon = await at('3.55', `/limits?tenant_id=${OTHER}`);
    expect(horizon.status).toBe(200);
    expect(horizon.body.limits.absolute.maxTotalVolumes).toBe(7);
    expect((await at('3.39', `/limits?project_id=${OTHER}`)).body.limits.absolute.maxTotalVolumes).toBe(7);
    const old = await at('3.38', `/limits?tenant_id=${OTHER}&whatever=1`);
    expect(old.status).toBe(200);
    expect(old.body.limits.absolute.maxTotalVolumes).toBe(-1);
  });

  it('"volume_type": "" is no type: the default (202), from a snapshot too', async () => {
    const res = await c.post('/volumes', { volume: { size: 1, volume_type: '' } });
    expect(res.status).toBe(202);
    const v = await untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'available');
    expect(v.volume_type).toBe('__DEFAULT__');
    const snap = await c.post('/snapshots', { snapshot: { volume_id: v.id } });
    await untilStatus(c, `/snapshots/${snap.body.snapshot.id}`, 'snapshot', 'available');
    const fromSnap = await c.post('/volumes', { volume: { size: 1, snapshot_id: snap.body.snapshot.id, volume_type: '' } });
    expect(fromSnap.status).toBe(202);
  });

  it('resource_filters (3.33): every resource, or the one asked; a 404 before 3.33', async () => {
    const all = await at('3.33', '/resource_filters');
    expect(all.status).toBe(200);
    expect(all.body.resource_filters).toContainEqual({
      resource: 'volume',
      filters: expect.arrayContaining(['name', 'status', 'metadata', 'bootable']),
    });
    expect((await at('3.33', '/resource_filters?resource=snapshot')).body.resource_filters).toEqual([
      { resource: 'snapshot', filters: ['name', 'status', 'volume_id', 'metadata', 'availability_zone'] },
    ]);
    expect((await at('3.32', '/resource_filters')).status).toBe(404);
  });

  it('a query key an operation does not read is ignored (a show), and a repeated filter key takes its last value', async () => {
    const v = await availableVolume(c, { name: 'twice' });
    const show = await at('3.0', `/volumes/${v.id}?fields=id&foo=bar`);
    expect(show.status).toBe(200);
    expect(show.body.volume.id).toBe(v.id);
    const twice = await at('3.60', '/volumes?name=nope&name=twice');
    expect(twice.status).toBe(200);
    expect(twice.body.volumes.map((x: any) => x.id)).toEqual([v.id]);
  });
});

describe('image API (Glance v2)', () => {
  it('deactivate → a volume from it is refused; reactivate; both idempotent; a queued image is refused', async () => {
    const g = glance(cairn.url);
    const img = await g.image({ name: 'deact' }, imageBytes(2000));
    expect((await g.call('POST', `/images/${img.id}/actions/deactivate`)).status).toBe(204);
    expect((await g.get(`/images/${img.id}`)).body.status).toBe('deactivated');
    expect((await g.call('POST', `/images/${img.id}/actions/deactivate`)).status).toBe(204);
    const vol = await c.post('/volumes', { volume: { size: 1, imageRef: img.id } });
    expect(vol.status).toBe(400);
    expect((await g.call('POST', `/images/${img.id}/actions/reactivate`)).status).toBe(204);
    expect((await g.get(`/images/${img.id}`)).body.status).toBe('active');
    expect((await g.call('POST', `/images/${img.id}/actions/reactivate`)).status).toBe(204);
    const queued = await g.call('POST', '/images', { name: 'q', disk_format: 'raw', container_format: 'bare' });
    expect((await g.call('POST', `/images/${queued.body.id}/actions/deactivate`)).status).toBe(403);
    expect((await g.call('POST', '/images/00000000-0000-4000-8000-000000000000/actions/deactivate')).status).toBe(404);
  });

  it("an image's cinder_img_volume_type names the type of a volume made from it without one; an unknown one gives the default", async () => {
    const g = glance(cairn.url);
    const type = await c.post('/types', { volume_type: { name: 'from-image-type' } });
    expect(type.status).toBe(200);
    const img = await g.image({ name: 'typed', cinder_img_volume_type: 'from-image-type' }, imageBytes(1000));
    const v = await c.post('/volumes', { volume: { size: 1, imageRef: img.id } });
    expect((await untilStatus(c, `/volumes/${v.body.volume.id}`, 'volume', 'available')).volume_type).toBe('from-image-type');
    const unknown = await g.image({ name: 'typo', cinder_img_volume_type: 'no-such-type' }, imageBytes(1000));
    const d = await c.post('/volumes', { volume: { size: 1, imageRef: unknown.id } });
    expect(d.status).toBe(202);
    expect(d.body.volume.volume_type).toBe('__DEFAULT__');
    // An asked type wins.
    const asked = await c.post('/volumes', { volume: { size: 1, imageRef: img.id, volume_type: '__DEFAULT__' } });
    expect(asked.body.volume.volume_type).toBe('__DEFAULT__');
  });

  it("schemas: image (glanceclient's model), images, member(s), metadefs namespace(s); metadefs namespaces list empty", async () => {
    const g = glance(cairn.url);
    const image = await g.get('/schemas/image');
    expect(image.status).toBe(200);
    expect(image.body).toMatchObject({ name: 'image', additionalProperties: { type: 'string' } });
    expect(Object.keys(image.body.properties)).toEqual(
      expect.arrayContaining(['id', 'name', 'status', 'visibility', 'disk_format', 'min_disk', 'tags']),
    );
    expect(image.body.properties.status.enum).toContain('deactivated');
    expect((await g.get('/schemas/images')).body.properties.images.items.name).toBe('image');
    expect((await g.get('/schemas/members')).status).toBe(200);
    expect((await g.get('/schemas/metadefs/namespace')).body).toMatchObject({ name: 'namespace', required: ['namespace'] });
    expect((await g.get('/schemas/metadefs/namespaces')).status).toBe(200);
    expect((await g.get('/schemas/nothing')).status).toBe(404);
    expect((await g.get('/metadefs/namespaces?resource_types=OS::Cinder::Volume')).body).toEqual({
      namespaces: [],
      first: '/v2/metadefs/namespaces',
      schema: '/v2/schemas/metadefs/namespaces',
    });
  });
});
