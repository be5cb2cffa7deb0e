/**
 * The compute API's protocol under `/v2.1`: version discovery, Nova's
 * microversion headers (new and legacy), request ids, the fault envelope,
 * URLs with and without the project id, flavors.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { PROJECT, startTestCairn, TOKEN, type TestCairn } from '../helpers/cairn';
import { novaHeaders, v21 } from '../helpers/compute';
import { anImage } from '../helpers/images';

let cairn: TestCairn;
beforeAll(async () => {
  cairn = await startTestCairn();
});
afterAll(async () => {
  await cairn.stop();
});
const api = () => request(cairn.url);
const AUTH = { 'X-Auth-Token': TOKEN };

describe('version discovery', () => {
  it("GET /v2.1, /v2.1/ and /v2.1/{project_id} answer Nova's v2.1 document: 2.1 to 2.89", async () => {
    for (const p of ['/v2.1', '/v2.1/', `/v2.1/${PROJECT}`]) {
      const res = await api().get(p).set(AUTH);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        version: {
          id: 'v2.1',
          status: 'CURRENT',
          version: '2.89',
          min_version: '2.1',
          updated: '2013-07-23T11:33:21Z',
          links: [
            { rel: 'self', href: `${cairn.url}/v2.1/` },
            { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
          ],
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
        },
      });
    }
  });

  it("GET / stays Cinder's 300 version list", async () => {
    expect((await api().get('/')).status).toBe(300);
  });
});

describe('microversions and headers', () => {
  it('no header → 2.1; both Nova headers and Vary are echoed; x-compute-request-id is set', async () => {
    const res = await api().get(v21('/flavors')).set(AUTH);
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'openstack-api-version': 'compute 2.1',
      'x-openstack-nova-api-version': '2.1',
      vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
    });
    expect(res.headers['x-compute-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  });

  it('the legacy X-OpenStack-Nova-API-Version is honoured; `compute latest` is 2.89', async () => {
    const legacy = await api()
      .get(v21('/flavors'))
      .set({ ...AUTH, 'X-OpenStack-Nova-API-Version': '2.60' });
    expect(legacy.headers['openstack-api-version']).toBe('compute 2.60');
    const latest = await api()
      .get(v21('/flavors'))
      .set({ ...AUTH, 'OpenStack-API-Version': 'compute latest' });
    expect(latest.headers['x-openstack-nova-api-version']).toBe('2.89');
    // 2.55 adds the flavor description.
    expect(latest.body.flavors[0]).toHaveProperty('description', null);
    expect(legacy.body.flavors[0]).toHaveProperty('description');
  });

  it("out of range → 406 computeFault with Nova's text; malformed → 400 (wsgi.py:460-465)", async () => {
    const res = await api()
      .get(v21('/flavors'))
      .set({ ...AUTH, 'OpenStack-API-Version': 'compute 2.90' });
    expect(res.status).toBe(406);
    expect(res.body).toEqual({
      computeFault: { code: 406, message: 'Version 2.90 is not supported by the API. Minimum is 2.1 and maximum is 2.89.' },
    });
    expect(res.headers['x-compute-request-id']).toBeDefined();
    const bad = await api()
      .get(v21('/flavors'))
      .set({ ...AUTH, 'X-OpenStack-Nova-API-Version': '2.x' });
    expect(bad.body).toEqual({
      badRequest: { code: 400, message: 'API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.' },
    });
  });

  it('a volume-only OpenStack-API-Version header leaves compute at 2.1', async () => {
    const res = await api()
      .get(v21('/flavors'))
      .set({ ...AUTH, 'OpenStack-API-Version': 'volume 3.70' });
    expect(res.headers['openstack-api-version']).toBe('compute 2.1');
  });
});

describe('URLs and faults', () => {
  it('/v2.1/servers and /v2.1/{project_id}/servers are the same; links carry the project id only when the URL did', async () => {
    const image = await anImage(cairn.url);
    const created = await api()
      .post(v21('/servers'))
      .set(novaHeaders())
      .send({ server: { name: 'u', flavorRef: '1', imageRef: image, networks: 'none' } });
    expect(created.status).toBe(202);
    const id = created.body.server.id;
    expect(created.headers.location).toBe(`${cairn.url}/v2.1/${PROJECT}/servers/${id}`);
    const bare = await api().get(`/v2.1/servers/${id}`).set(novaHeaders());
    expect(bare.status).toBe(200);
    expect(bare.body.server.links).toEqual([
      { rel: 'self', href: `${cairn.url}/v2.1/servers/${id}` },
      { rel: 'bookmark', href: `${cairn.url}/servers/${id}` },
    ]);
    const list = await api().get('/v2.1/servers').set(novaHeaders());
    expect(list.body.servers.map((s: any) => s.id)).toContain(id);
  });

  it("another project's id in the URL → 400 with Nova's text (wsgi.py:529)", async () => {
    const other = 'aaaabbbbccccddddeeeeffff00001111';
    const res = await api().get(`/v2.1/${other}/servers`).set(novaHeaders());
    expect(res.body).toEqual({
      badRequest: {
        code: 400,
        message: `Malformed request URL: URL's project_id '${other}' doesn't match Context's project_id '${PROJECT}'`,
      },
    });
  });

  it('an unknown server → 404 itemNotFound "Instance X could not be found." with the version headers', async () => {
    const id = randomUUID();
    const res = await api()
      .get(v21(`/servers/${id}`))
      .set(novaHeaders('2.60'));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    expect(res.headers['openstack-api-version']).toBe('compute 2.60');
  });

  it('an unknown path → 404 itemNotFound; an unknown action → 400 (wsgi.py:500)', async () => {
    expect((await api().get(v21('/os-hypervisors')).set(novaHeaders())).body).toEqual({
      itemNotFound: { code: 404, message: 'The resource could not be found.' },
    });
    const image = await anImage(cairn.url);
    const s = await api()
      .post(v21('/servers'))
      .set(novaHeaders())
      .send({ server: { name: 'a', flavorRef: '1', imageRef: image, networks: 'none' } });
    const res = await api()
      .post(v21(`/servers/${s.body.server.id}/action`))
      .set(novaHeaders())
      .send({ reboot: { type: 'SOFT' } });
    expect(res.body).toEqual({ badRequest: { code: 400, message: 'There is no such action: reboot' } });
  });

  it('without a token noauth answers 204, as for the volume API', async () => {
    expect((await api().get(v21('/servers'))).status).toBe(204);
  });
});

describe('flavors', () => {
  it('list, detail and show the fixed flavors; an unknown one is 404 (flavors.py)', async () => {
    const list = await api().get(v21('/flavors')).set(novaHeaders('2.1'));
    expect(list.body.flavors.map((f: any) => [f.id, f.name])).toEqual([
      ['1', 'm1.tiny'],
      ['2', 'm1.small'],
      ['3', 'm1.medium'],
      ['4', 'm1.large'],
      ['5', 'm1.xlarge'],
    ]);
    const detail = await api().get(v21('/flavors/detail')).set(novaHeaders('2.1'));
    expect(detail.body.flavors[0]).toEqual({
      id: '1',
      name: 'm1.tiny',
      ram: 512,
      disk: 1,
      swap: '',
      'OS-FLV-EXT-DATA:ephemeral': 0,
      'OS-FLV-DISABLED:disabled': false,
      vcpus: 1,
      'os-flavor-access:is_public': true,
      rxtx_factor: 1,
      links: expect.any(Array),
    });
    const shown = await api().get(v21('/flavors/2')).set(novaHeaders('2.75'));
    expect(shown.body.flavor).toMatchObject({ id: '2', swap: 0, description: null, extra_specs: {} });
    expect((await api().get(v21('/flavors/99')).set(novaHeaders())).body).toEqual({
      itemNotFound: { code: 404, message: 'Flavor 99 could not be found.' },
    });
  });
});
