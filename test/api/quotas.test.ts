import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { formatVerifyReport, verifyQuotas } from '../../src/services/quotas/verify';
import { startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

let cairn: TestCairn;
beforeAll(async () => {
  cairn = await startTestCairn();
});
afterAll(async () => {
  await cairn.stop();
});

const REF = path.resolve(__dirname, '../fixtures/cinder-21-live');
const recorded = (name: string) => JSON.parse(fs.readFileSync(path.join(REF, `${name}.json`), 'utf8')).response;

/** A fresh project per test (noauth: every caller is an admin). */
function project() {
  const id = randomBytes(16).toString('hex');
  const h = { 'X-Auth-Token': `u-${id.slice(0, 6)}:${id}`, 'OpenStack-API-Version': 'volume 3.70' };
  const api = request(cairn.url);
  return {
    id,
    get: (p: string) => api.get(`/v3/${id}${p}`).set(h),
    put: (p: string, body: object) => api.put(`/v3/${id}${p}`).set(h).send(body),
    post: (p: string, body: object) => api.post(`/v3/${id}${p}`).set(h).send(body),
    delete: (p: string) => api.delete(`/v3/${id}${p}`).set(h),
  };
}

const GLOBAL_KEYS = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups'];

describe('os-quota-sets', () => {
  it('show, defaults and the default class have Cinder 21 keys and defaults, with per-type keys for every type', async () => {
    const p = project();
    const show = await p.get(`/os-quota-sets/${p.id}`);
    expect(show.status).toBe(200);
    const rec = recorded('quota_sets_show').body.quota_set;
    for (const k of GLOBAL_KEYS) expect(show.body.quota_set[k]).toBe(rec[k]);
    expect(show.body.quota_set).toMatchObject({ id: p.id, volumes___DEFAULT__: -1, gigabytes___DEFAULT__: -1, snapshots___DEFAULT__: -1 });
    const keys = Object.keys(show.body.quota_set);
    expect(keys.slice(0, 6)).toEqual(GLOBAL_KEYS.slice(0, 6));
    expect(keys.slice(-2)).toEqual(['groups', 'id']);
    expect((await p.get(`/os-quota-sets/${p.id}/defaults`)).body.quota_set).toEqual(show.body.quota_set);
    const cls = await p.get('/os-quota-class-sets/default');
    expect(cls.body.quota_class_set).toEqual({ ...show.body.quota_set, id: 'default' });
  });

  it('?usage=True counts volumes of every status, in total and per type', async () => {
    const p = project();
    const t = (await p.post('/types', { volume_type: { name: `q-${p.id.slice(0, 8)}` } })).body.volume_type;
    expect((await p.post('/volumes', { volume: { size: 2, volume_type: t.name } })).status).toBe(202);
    expect((await p.post('/volumes', { volume: { size: 3 } })).status).toBe(202);
    // A type no backend can take: the volume goes to error at once, and still counts (as in Cinder).
    const bad = (
      await p.post('/types', { volume_type: { name: `bad-${p.id.slice(0, 8)}`, extra_specs: { volume_backend_name: 'nowhere' } } })
    ).body.volume_type;
    const err = await p.post('/volumes', { volume: { size: 1, volume_type: bad.name } });
    expect(err.body.volume.status).toBe('error');
    const res = await p.get(`/os-quota-sets/${p.id}?usage=True`);
    expect(res.status).toBe(200);
    const q = res.body.quota_set;
    expect(q.volumes).toEqual({ limit: 10, in_use: 3, reserved: 0 });
    expect(q.gigabytes).toEqual({ limit: 1000, in_use: 6, reserved: 0 });
    expect(q[`volumes_${t.name}`]).toEqual({ limit: -1, in_use: 1, reserved: 0 });
    expect(q[`gigabytes_${t.name}`]).toEqual({ limit: -1, in_use: 2, reserved: 0 });
    expect(q.volumes___DEFAULT__).toEqual({ limit: -1, in_use: 1, reserved: 0 });
    expect(q[`volumes_${bad.name}`]).toEqual({ limit: -1, in_use: 1, reserved: 0 });
    expect(q.per_volume_gigabytes).toEqual({ limit: -1, in_use: 0, reserved: 0 });
    const limits = (await p.get('/limits')).body.limits.absolute;
    expect(limits).toMatchObject({ maxTotalVolumes: 10, totalVolumesUsed: 3, totalGigabytesUsed: 6, maxTotalVolumeGigabytes: 1000 });
  });

  it('update answers the limits without id; limits then follow; delete resets to the defaults (200, no body)', async () => {
    const p = project();
    const up = await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 20, snapshots: '20' } });
    expect(up.status).toBe(200);
    expect(up.body.quota_set).toMatchObject({ volumes: 20, snapshots: 20, gigabytes: 1000 });
    expect(up.body.quota_set.id).toBeUndefined();
    expect((await p.get('/limits')).body.limits.absolute.maxTotalVolumes).toBe(20);
    const del = await p.delete(`/os-quota-sets/${p.id}`);
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect((await p.get(`/os-quota-sets/${p.id}`)).body.quota_set.volumes).toBe(10);
  });

  it("a limit below current usage → 400 with Cinder's text; unknown keys and bad values → 400", async () => {
    const p = project();
    await p.post('/volumes', { volume: { size: 1 } });
    const res = await p.put(`/os-quota-sets/${p.id}`, { quota_set: { gigabytes: 0 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(recorded('error_quota_set_below_usage').body);
    expect((await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: -1, gigabytes: 1 } })).status).toBe(200);
    const bad = await p.put(`/os-quota-sets/${p.id}`, { quota_set: { bogus: 1, volumes_nosuchtype: 2 } });
    expect(bad.body).toEqual({
      badRequest: { code: 400, message: 'Invalid input received: Bad key(s) in quota set: bogus, volumes_nosuchtype' },
    });
    expect((await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: -2 } })).body.badRequest.message).toBe('volumes must be >= -1');
    expect((await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 'many' } })).body.badRequest.message).toBe(
      'volumes must be an integer.',
    );
  });

  it('the default class changes the defaults of projects without their own limit', async () => {
    const p = project();
    const res = await p.put('/os-quota-class-sets/default', { quota_class_set: { backups: 12 } });
    expect(res.status).toBe(200);
    expect(res.body.quota_class_set).toMatchObject({ backups: 12, volumes: 10 });
    expect((await p.get(`/os-quota-sets/${p.id}/defaults`)).body.quota_set.backups).toBe(12);
    expect((await p.get(`/os-quota-sets/${p.id}`)).body.quota_set.backups).toBe(12);
    await p.put('/os-quota-class-sets/default', { quota_class_set: { backups: 10 } });
  });
});

describe('quota enforcement on volume create', () => {
  const expectOver = (res: request.Response, message: string) => {
    expect(res.status).toBe(413);
    expect(res.headers['retry-after']).toBe('0');
    expect(res.body).toEqual({ overLimit: { code: 413, message, retryAfter: '0' } });
  };

  it("volumes, gigabytes and per_volume_gigabytes refusals are Cinder's 413s", async () => {
    const p = project();
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 1, gigabytes: 5 } });
    expect((await p.post('/volumes', { volume: { size: 1 } })).status).toBe(202);
    expectOver(await p.post('/volumes', { volume: { size: 6 } }), recorded('error_over_quota_create_too_big').body.overLimit.message);
    expectOver(await p.post('/volumes', { volume: { size: 1 } }), recorded('error_over_quota_volumes').body.overLimit.message);
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 10, per_volume_gigabytes: 2 } });
    expectOver(
      await p.post('/volumes', { volume: { size: 3 } }),
      'VolumeSizeExceedsLimit: Requested volume size 3G is larger than maximum allowed limit 2G.',
    );
  });

  it('per-type limits name the per-type key', async () => {
    const p = project();
    const t = (await p.post('/types', { volume_type: { name: `pt-${p.id.slice(0, 8)}` } })).body.volume_type;
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { [`volumes_${t.name}`]: 1, [`gigabytes_${t.name}`]: 3 } });
    expectOver(
      await p.post('/volumes', { volume: { size: 4, volume_type: t.name } }),
      `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes_${t.name} quota. Requested 4G, quota is 3G and 0G has been consumed.`,
    );
    expect((await p.post('/volumes', { volume: { size: 1, volume_type: t.name } })).status).toBe(202);
    expectOver(
      await p.post('/volumes', { volume: { size: 1, volume_type: t.name } }),
      `VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes_${t.name}'.`,
    );
    expect((await p.post('/volumes', { volume: { size: 1 } })).status).toBe(202); // other types are not limited
  });

  it("retype at the volume limit is allowed: only the new type's per-type quota is checked", async () => {
    const p = project();
    const [t1, t2] = [`rt1-${p.id.slice(0, 8)}`, `rt2-${p.id.slice(0, 8)}`];
    for (const name of [t1, t2]) expect((await p.post('/types', { volume_type: { name } })).status).toBe(200);
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 1, gigabytes: 1, [`volumes_${t2}`]: 0 } });
    const id = (await p.post('/volumes', { volume: { size: 1, volume_type: t1 } })).body.volume.id;
    await waitFor(async () => (await p.get(`/volumes/${id}`)).body.volume.status === 'available');
    expectOver(
      await p.post(`/volumes/${id}/action`, { 'os-retype': { new_type: t2 } }),
      `VolumeLimitExceeded: Maximum number of volumes allowed (0) exceeded for quota 'volumes_${t2}'.`,
    );
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { [`volumes_${t2}`]: -1 } });
    expect((await p.post(`/volumes/${id}/action`, { 'os-retype': { new_type: t2 } })).status).toBe(202);
    expect((await p.get(`/volumes/${id}`)).body.volume.volume_type).toBe(t2);
  });

  it('a deleted volume gives its quota back only once it is gone', async () => {
    const p = project();
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 1 } });
    const id = (await p.post('/volumes', { volume: { size: 1 } })).body.volume.id;
    await waitFor(async () => (await p.get(`/volumes/${id}`)).body.volume.status === 'available');
    expect((await p.delete(`/volumes/${id}`)).status).toBe(202);
    await waitFor(async () => (await p.get(`/volumes/${id}`)).status === 404);
    expect((await p.post('/volumes', { volume: { size: 1 } })).status).toBe(202);
  });

  it('200 concurrent creates against a quota of 50: exactly 50 get 202, 150 get 413, and verify finds no violation', async () => {
    const p = project();
    await p.put(`/os-quota-sets/${p.id}`, { quota_set: { volumes: 50 } });
    const results = await Promise.all(Array.from({ length: 200 }, () => p.post('/volumes', { volume: { size: 1 } })));
    const count = (s: number) => results.filter((r) => r.status === s).length;
    expect({ accepted: count(202), over: count(413) }).toEqual({ accepted: 50, over: 150 });
    expect((await p.get(`/os-quota-sets/${p.id}?usage=True`)).body.quota_set.volumes).toEqual({ limit: 50, in_use: 50, reserved: 0 });
    const report = await verifyQuotas(cairn.db, { projectId: p.id });
    expect(report.violations).toEqual([]);
    expect(report.projects[0]!.keys.find((k) => k.key === 'volumes')).toMatchObject({ limit: 50, inUse: 50, recount: 50 });
  });

  it('verify reports a project over its limit (here: the default class lowered below usage)', async () => {
    const p = project();
    for (let i = 0; i < 2; i++) await p.post('/volumes', { volume: { size: 1 } });
    await p.put('/os-quota-class-sets/default', { quota_class_set: { volumes: 1 } });
    try {
      const report = await verifyQuotas(cairn.db, { projectId: p.id });
      expect(report.violations).toEqual([`project ${p.id}: volumes: 2 in use is over the limit 1 (class limit)`]);
      const text = formatVerifyReport(report);
      expect(text).toMatch(/^ {2}by status \(every status counts\): volume (creating|available) \d \(\d GiB\)/m);
      expect(text).toMatch(/^ {2}volumes +1 +2 +2 +class$/m);
      expect(text).toMatch(/^ {2}VIOLATION: volumes: 2 in use is over the limit 1 \(class limit\)$/m);
      expect(text.split('\n').pop()).toBe('1 violation(s) in 1 project(s)');
    } finally {
      await p.put('/os-quota-class-sets/default', { quota_class_set: { volumes: 10 } });
    }
  });
});
