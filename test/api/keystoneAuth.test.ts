/**
 * AUTH_STRATEGY=keystone against an in-process fake Keystone: the 401s as
 * keystonemiddleware answers them (recorded from Cinder 21), roles, and the
 * project in the URL.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { FakeKeystone } from '../helpers/fakeKeystone';
import { startTestCairn, type TestCairn } from '../helpers/cairn';

const REF = path.resolve(__dirname, '../fixtures/cinder-21-live');
const recorded = (name: string) => JSON.parse(fs.readFileSync(path.join(REF, `${name}.json`), 'utf8')).response;

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';
let ks: FakeKeystone;
let cairn: TestCairn;
const tok: Record<string, string> = {};

beforeAll(async () => {
  ks = await FakeKeystone.start();
  cairn = await startTestCairn(ks.env({ KEYSTONE_WWW_AUTHENTICATE_URI: 'http://127.0.0.1:5000' }));
  tok.member = ks.issue({ userId: 'm1', projectId: P1, roles: ['member', 'reader'] });
  tok.reader = ks.issue({ userId: 'r1', projectId: P1, roles: ['reader'] });
  tok.admin = ks.issue({ userId: 'a1', projectId: P2, roles: ['admin', 'member', 'reader'] });
});
afterAll(async () => {
  await cairn?.stop();
  await ks?.stop();
});

const MV = { 'OpenStack-API-Version': 'volume 3.70' };
const as = (who: string) => ({ ...MV, 'X-Auth-Token': tok[who]! });
const api = () => request(cairn.url);

/** keystonemiddleware's 401: status, body, WWW-Authenticate, and no microversion headers. */
function expectKeystone401(res: request.Response, recording: string) {
  const rec = recorded(recording);
  expect(res.status).toBe(401);
  expect(res.body).toEqual(rec.body);
  expect(res.headers['www-authenticate']).toBe(rec.headers['Www-Authenticate']);
  expect(res.headers['content-length']).toBe(rec.headers['Content-Length']);
  expect(res.headers['openstack-api-version']).toBeUndefined();
  expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
}

describe('keystone auth', () => {
  it('GET / needs no token (300); GET /v3/ and /v3 do (401)', async () => {
    expect((await api().get('/')).status).toBe(300);
    expectKeystone401(await api().get('/v3/').set(MV), 'keystone_versions_v3');
    expectKeystone401(await api().get('/v3').set(MV), 'keystone_versions_v3');
    expect((await api().get('/v3').set(as('reader'))).status).toBe(302);
    expect((await api().get('/v3/').set(as('reader'))).status).toBe(200);
  });

  it('no token and an unknown token → 401 as keystonemiddleware answers', async () => {
    expectKeystone401(await api().get(`/v3/${P1}/volumes`).set(MV), 'keystone_error_no_token');
    expectKeystone401(
      await api()
        .get(`/v3/${P1}/volumes`)
        .set({ ...MV, 'X-Auth-Token': 'bogus' }),
      'keystone_error_bad_token',
    );
  });

  it("a valid token lists its project's volumes; another project in the URL → 400 Malformed request url", async () => {
    const ok = await api().get(`/v3/${P1}/volumes`).set(as('member'));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(recorded('keystone_volumes_list').body);
    const bad = await api().get(`/v3/${P2}/volumes`).set(as('member'));
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual(recorded('keystone_error_project_mismatch').body);
    expect(bad.headers['openstack-api-version']).toBe('volume 3.70');
  });

  it("a reader may read but not write: 403 with Cinder's policy text", async () => {
    expect((await api().get(`/v3/${P1}/volumes/detail`).set(as('reader'))).status).toBe(200);
    expect((await api().get(`/v3/${P1}/os-quota-sets/${P1}?usage=True`).set(as('reader'))).status).toBe(200);
    const res = await api()
      .post(`/v3/${P1}/volumes`)
      .set(as('reader'))
      .send({ volume: { size: 1 } });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ forbidden: { code: 403, message: "Policy doesn't allow volume:create to be performed." } });
  });

  it('a member writes in its project but may not do admin actions', async () => {
    const created = await api()
      .post(`/v3/${P1}/volumes`)
      .set(as('member'))
      .send({ volume: { size: 1 } });
    expect(created.status).toBe(202);
    expect(created.body.volume.user_id).toBe('m1');
    const type = await api()
      .post(`/v3/${P1}/types`)
      .set(as('member'))
      .send({ volume_type: { name: 'nope' } });
    expect(type.body).toEqual({ forbidden: { code: 403, message: "Policy doesn't allow volume_extension:types_manage to be performed." } });
    expect(
      (
        await api()
          .put(`/v3/${P1}/os-quota-sets/${P1}`)
          .set(as('member'))
          .send({ quota_set: { volumes: 100 } })
      ).status,
    ).toBe(403);
    expect((await api().get(`/v3/${P1}/os-quota-sets/${P2}`).set(as('member'))).status).toBe(403);
    expect((await api().get(`/v3/${P1}/os-quota-class-sets/default`).set(as('member'))).status).toBe(403);
    // all_tenants is an admin's: a member's list stays its own.
    const all = await api().get(`/v3/${P1}/volumes?all_tenants=1`).set(as('member'));
    expect(all.body.volumes.map((v: any) => v.id)).toEqual([created.body.volume.id]);
  });

  it("an admin may manage types and other projects' quotas", async () => {
    expect(
      (
        await api()
          .post(`/v3/${P2}/types`)
          .set(as('admin'))
          .send({ volume_type: { name: 'ks-admin-type' } })
      ).status,
    ).toBe(200);
    expect(
      (
        await api()
          .put(`/v3/${P2}/os-quota-sets/${P1}`)
          .set(as('admin'))
          .send({ quota_set: { volumes: 5 } })
      ).status,
    ).toBe(200);
    const limits = await api().get(`/v3/${P1}/limits`).set(as('reader'));
    expect(limits.body.limits.absolute).toMatchObject({ maxTotalVolumes: 5, totalVolumesUsed: 1 });
  });

  it("a path with a trailing slash matches no route (404 after auth), as Cinder's router: GET /volumes/ is not the list", async () => {
    expectKeystone401(await api().get(`/v3/${P1}/volumes/`).set(MV), 'keystone_error_no_token');
    const res = await api().get(`/v3/${P1}/volumes/`).set(as('member'));
    expect(res.status).toBe(404);
    expect(res.body.volumes).toBeUndefined();
  });

  it("Keystone failing → 503 in Keystone's shape, not a 401", async () => {
    const t = ks.issue({ userId: 'x', projectId: P1, roles: ['member'] });
    ks.failing = true;
    try {
      const res = await api()
        .get(`/v3/${P1}/volumes`)
        .set({ ...MV, 'X-Auth-Token': t });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 503, title: 'Service Unavailable' });
    } finally {
      ks.failing = false;
    }
  });
});
