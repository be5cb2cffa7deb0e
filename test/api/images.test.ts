/**
 * cairn's own Glance v2 subset (`/v2/images…`): the image JSON, the data
 * round trip, list filters/sort/paging, Glance's errors, and project
 * isolation (Keystone auth against the in-process fake).
 */
import { createHash } from 'node:crypto';
import { startTestCairn, type TestCairn } from '../helpers/cairn';
import { FakeKeystone } from '../helpers/fakeKeystone';
import { glance, imageBytes, md5 } from '../helpers/images';

const IMAGE_KEYS = [
  'checksum',
  'container_format',
  'created_at',
  'disk_format',
  'file',
  'id',
  'min_disk',
  'min_ram',
  'name',
  'os_hash_algo',
  'os_hash_value',
  'os_hidden',
  'owner',
  'protected',
  'schema',
  'self',
  'size',
  'status',
  'tags',
  'updated_at',
  'virtual_size',
  'visibility',
];

describe('Glance v2 subset (noauth)', () => {
  let cairn: TestCairn;
  let g: ReturnType<typeof glance>;
  beforeAll(async () => {
    cairn = await startTestCairn();
    g = glance(cairn.url);
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it('create → queued with Glance keys; upload → active with size, md5 and sha512; download gives the bytes back', async () => {
    const created = await g.call('POST', '/images', {
      name: 'cirros',
      disk_format: 'raw',
      container_format: 'bare',
      min_disk: 1,
      os_distro: 'cirros',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v2/images/${created.body.id}`);
    expect(Object.keys(created.body).sort()).toEqual([...IMAGE_KEYS, 'os_distro'].sort());
    expect(created.body).toMatchObject({
      status: 'queued',
      visibility: 'shared',
      size: null,
      checksum: null,
      min_disk: 1,
      os_distro: 'cirros',
      protected: false,
      tags: [],
    });
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await g.get(`/images/${created.body.id}/file`)).status).toBe(204);

    const data = imageBytes(1_500_000);
    const put = await g.call('PUT', `/images/${created.body.id}/file`, data, { 'Content-Type': 'application/octet-stream' });
    expect(put.status).toBe(204);
    const shown = (await g.get(`/images/${created.body.id}`)).body;
    expect(shown).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: createHash('sha512').update(data).digest('hex'),
    });
    const file = await g.get(`/images/${created.body.id}/file`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-md5')).toBe(md5(data));
    expect(file.raw.equals(data)).toBe(true);
    // A second upload: the image is no longer queued.
    const again = await g.call('PUT', `/images/${created.body.id}/file`, data, { 'Content-Type': 'application/octet-stream' });
    expect(again.status).toBe(409);
  });

  it('unknown image → 404 with webob JSON; text for clients that do not accept JSON', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    const res = await g.get(`/images/${id}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: `No image found with ID ${id}<br /><br />\n\n\n`, code: '404 Not Found', title: 'Not Found' });
    const text = await fetch(`${cairn.url}/v2/images/${id}`, { headers: { 'X-Auth-Token': 'u:p' } });
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toContain(`No image found with ID ${id}`);
  });

  it('list: name/status filters, property filters, sort, limit with a next link that pages to the end', async () => {
    const names = ['lst-a', 'lst-b', 'lst-c'];
    for (const n of names) await g.image({ name: n, hw_disk_bus: n === 'lst-b' ? 'scsi' : 'virtio', tags: ['lst'] }, imageBytes(1000));
    const byName = await g.get('/images?name=lst-b');
    expect(byName.status).toBe(200);
    expect(byName.body.images.map((i: any) => i.name)).toEqual(['lst-b']);
    expect(byName.body).toMatchObject({ first: '/v2/images?name=lst-b', schema: '/v2/schemas/images' });
    expect((await g.get('/images?hw_disk_bus=scsi')).body.images.map((i: any) => i.name)).toEqual(['lst-b']);
    expect((await g.get('/images?tag=lst&sort_key=name&sort_dir=asc')).body.images.map((i: any) => i.name)).toEqual(names);
    expect((await g.get('/images?tag=lst&sort=name:desc')).body.images.map((i: any) => i.name)).toEqual([...names].reverse());
    expect((await g.get('/images?status=queued&tag=lst')).body.images).toEqual([]);

    const seen: string[] = [];
    let next: string | undefined = '/images?tag=lst&sort_key=name&sort_dir=asc&limit=2';
    while (next) {
      const page: any = await g.get(next);
      seen.push(...page.body.images.map((i: any) => i.name));
      next = page.body.next?.replace(/^\/v2/, '');
    }
    expect(seen).toEqual(names);
  });

  it("Glance's 400s for bad list parameters and a missing marker", async () => {
    expect((await g.get('/images?limit=x')).body.message).toMatch(/^limit param must be an integer/);
    expect((await g.get('/images?limit=-1')).body.message).toMatch(/^limit param must be positive/);
    expect((await g.get('/images?sort_key=nope')).body.message).toMatch(/^Invalid sort key: nope\. It must be one of the following: /);
    expect((await g.get('/images?sort_dir=up')).body.message).toMatch(/^Invalid sort direction: up/);
    expect((await g.get('/images?visibility=everyone')).body.message).toMatch(/^Invalid visibility value: everyone/);
    const marker = await g.get('/images?marker=11111111-2222-4333-8444-555555555555');
    expect(marker.status).toBe(400);
    expect(marker.body.message).toMatch(/^No image found with ID 11111111-2222-4333-8444-555555555555/);
  });

  it('create refuses read-only attributes (403) and bad formats (400); delete refuses a protected image (403)', async () => {
    expect((await g.call('POST', '/images', { name: 'x', status: 'active' })).status).toBe(403);
    expect((await g.call('POST', '/images', { name: 'x', disk_format: 'floppy' })).status).toBe(400);
    const p = await g.call('POST', '/images', { name: 'prot', protected: true });
    const del = await g.call('DELETE', `/images/${p.body.id}`);
    expect(del.status).toBe(403);
    expect(del.body.message).toMatch(`Image ${p.body.id} is protected and cannot be deleted.`);
    const u = await g.call('POST', '/images', { name: 'unprot' });
    expect((await g.call('DELETE', `/images/${u.body.id}`)).status).toBe(204);
    expect((await g.get(`/images/${u.body.id}`)).status).toBe(404);
  });

  it('GET /v2 answers the version document without a token', async () => {
    const res = await fetch(`${cairn.url}/v2/`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).versions[0]).toMatchObject({ id: 'v2.16', status: 'CURRENT' });
  });
});

describe('Glance v2 subset: project isolation (Keystone)', () => {
  const PA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const PB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  let ks: FakeKeystone;
  let cairn: TestCairn;
  let a: ReturnType<typeof glance>;
  let b: ReturnType<typeof glance>;
  let admin: ReturnType<typeof glance>;
  const ids: Record<string, string> = {};
  let bToken = '';
  beforeAll(async () => {
    ks = await FakeKeystone.start();
    cairn = await startTestCairn(ks.env());
    a = glance(cairn.url, ks.issue({ userId: 'ua', projectId: PA, roles: ['member', 'reader'] }));
    bToken = ks.issue({ userId: 'ub', projectId: PB, roles: ['member', 'reader'] });
    b = glance(cairn.url, bToken);
    admin = glance(
      cairn.url,
      ks.issue({ userId: 'adm', projectId: 'cccccccccccccccccccccccccccccccc', roles: ['admin', 'member', 'reader'] }),
    );
    ids.private = (await a.image({ name: 'a-private', visibility: 'private' }, imageBytes(100))).id;
    ids.shared = (await a.image({ name: 'a-shared' }, imageBytes(100))).id;
    ids.community = (await a.image({ name: 'a-community', visibility: 'community' }, imageBytes(100))).id;
    ids.public = (await admin.image({ name: 'pub', visibility: 'public' }, imageBytes(100))).id;
  });
  afterAll(async () => {
    await cairn.stop();
    await ks.stop();
  });

  it("another project's private and shared images are 404 to show, download and delete; public and community are visible", async () => {
    for (const id of [ids.private, ids.shared]) {
      expect((await b.get(`/images/${id}`)).status).toBe(404);
      expect((await b.get(`/images/${id}/file`)).status).toBe(404);
      expect((await b.call('DELETE', `/images/${id}`)).status).toBe(404);
      expect((await a.get(`/images/${id}`)).status).toBe(200);
    }
    expect((await b.get(`/images/${ids.public}`)).status).toBe(200);
    expect((await b.get(`/images/${ids.community}`)).status).toBe(200);
    expect((await b.call('DELETE', `/images/${ids.community}`)).status).toBe(403);
  });

  it("list: public and own by default; others' community images only when asked for", async () => {
    const names = async (c: ReturnType<typeof glance>, q = '') => (await c.get(`/images${q}`)).body.images.map((i: any) => i.name).sort();
    expect(await names(b)).toEqual(['pub']);
    expect(await names(a)).toEqual(['a-community', 'a-private', 'a-shared', 'pub']);
    expect(await names(b, '?visibility=community')).toEqual(['a-community']);
    expect(await names(b, '?visibility=private')).toEqual([]);
  });

  it("a volume from another project's private image → Cinder's 400; from a public one → 202", async () => {
    const create = (imageRef: string) =>
      fetch(`${cairn.url}/v3/${PB}/volumes`, {
        method: 'POST',
        headers: { 'X-Auth-Token': bToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ volume: { size: 1, imageRef } }),
      });
    const hidden = await create(ids.private!);
    expect(hidden.status).toBe(400);
    expect(await hidden.json()).toEqual({
      badRequest: { code: 400, message: 'Invalid image identifier or unable to access requested image.' },
    });
    expect((await create('a-private')).status).toBe(400);
    expect((await create(ids.public!)).status).toBe(202);
  });

  it('a reader may look but not create (403, Glance-style body)', async () => {
    const reader = glance(cairn.url, ks.issue({ userId: 'ub-r', projectId: PB, roles: ['reader'] }));
    expect((await reader.get('/images')).status).toBe(200);
    const res = await reader.call('POST', '/images', { name: 'x' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: '403 Forbidden', title: 'Forbidden' });
  });

  it('a non-admin may not publicize an image (403)', async () => {
    expect((await b.call('POST', '/images', { name: 'x', visibility: 'public' })).status).toBe(403);
  });
});
