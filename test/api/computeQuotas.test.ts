/**
 * Nova's quotas on the compute API: `os-quota-sets` (show, detail,
 * defaults, update, delete), `os-quota-class-sets`, `GET /limits` with
 * their per-microversion shapes and policies, and the quota a server create
 * is refused by (403, Nova's texts), counted from the servers themselves.
 * Keystone auth against the in-process fake, so roles decide as in Nova.
 */
import request from 'supertest';
import { FakeKeystone } from '../helpers/fakeKeystone';
import { startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { verifyQuotas } from '../../src/services/quotas/verify';

const P = '1111111111111111111111111111aaaa';
const OTHER = '2222222222222222222222222222bbbb';
const PADMIN = '3333333333333333333333333333cccc';

let ks: FakeKeystone;
let cairn: TestCairn;
const tok = { member: '', admin: '' };

beforeAll(async () => {
  ks = await FakeKeystone.start();
  cairn = await startTestCairn(ks.env());
  tok.member = ks.issue({ userId: 'u', projectId: P, roles: ['member', 'reader'] });
  tok.admin = ks.issue({ userId: 'adm', projectId: PADMIN, roles: ['admin', 'member', 'reader'] });
});
afterAll(async () => {
  await cairn?.stop();
  await ks?.stop();
});

const api = () => request(cairn.url);
const headers = (token: string, v = '2.1') => ({ 'X-Auth-Token': token, 'OpenStack-API-Version': `compute ${v}` });
const get = (path: string, token = tok.member, v = '2.1') => api().get(`/v2.1${path}`).set(headers(token, v));
const put = (path: string, body: unknown, token = tok.admin, v = '2.1') =>
  api()
    .put(`/v2.1${path}`)
    .set(headers(token, v))
    .send(body as object);
const del = (path: string, token = tok.admin, v = '2.1') => api().delete(`/v2.1${path}`).set(headers(token, v));
const setQuota = async (project: string, quota_set: Record<string, unknown>) => {
  const res = await put(`/os-quota-sets/${project}`, { quota_set });
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
  return res;
};

/** A boot-from-volume server of `flavor` in P; answers the create's response. */
const createServer = (flavorRef = '1', extra: Record<string, unknown> = {}) =>
  api()
    .post(`/v2.1/${P}/servers`)
    .set(headers(tok.member, '2.89'))
    .send({
      server: {
        name: 'q',
        flavorRef,
        networks: 'none',
        ...extra,
        block_device_mapping_v2: [
          { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true },
        ],
      },
    });
const removeServer = async (id: string) => {
  expect((await api().delete(`/v2.1/${P}/servers/${id}`).set(headers(tok.member))).status).toBe(204);
  await waitFor(async () => (await get(`/servers/${id}`)).status === 404, 20_000, `server ${id} gone`);
};

const NOVA_DEFAULTS = {
  cores: 20,
  fixed_ips: -1,
  floating_ips: -1,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  injected_files: 5,
  instances: 10,
  key_pairs: 100,
  metadata_items: 128,
  ram: 51200,
  security_group_rules: -1,
  security_groups: -1,
  server_group_members: 10,
  server_groups: 10,
};
const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const NETWORK = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const INJECTED = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

describe('os-quota-sets', () => {
  it("show: Nova's defaults with the project id; 2.36 drops the network resources, 2.57 the injected files", async () => {
    expect((await get(`/os-quota-sets/${P}`)).body).toEqual({ quota_set: { id: P, ...NOVA_DEFAULTS } });
    expect((await get(`/os-quota-sets/${P}`, tok.member, '2.36')).body).toEqual({
      quota_set: { id: P, ...without(NOVA_DEFAULTS, ...NETWORK) },
    });
    expect((await get(`/os-quota-sets/${P}`, tok.member, '2.57')).body).toEqual({
      quota_set: { id: P, ...without(NOVA_DEFAULTS, ...NETWORK, ...INJECTED) },
    });
    // The same with the project id in the URL.
    expect((await get(`/${P}/os-quota-sets/${P}`)).body.quota_set.instances).toBe(10);
  });

  it("a member may read its own project's quota, not another's, and may not change any (admin-only, Nova's policy names)", async () => {
    expect(await get(`/os-quota-sets/${OTHER}`)).toMatchObject({
      status: 403,
      body: { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed." } },
    });
    expect((await get(`/os-quota-sets/${OTHER}/detail`)).body.forbidden.message).toMatch(/os-quota-sets:detail/);
    const denied = await put(`/os-quota-sets/${P}`, { quota_set: { instances: 50 } }, tok.member);
    expect(denied.body).toEqual({
      forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed." },
    });
    expect((await del(`/os-quota-sets/${P}`, tok.member)).body.forbidden.message).toMatch(/os-quota-sets:delete/);
    // The defaults are nobody's own: anyone may read them (RULE_ANY).
    expect((await get(`/os-quota-sets/${OTHER}/defaults`)).body).toEqual({ quota_set: { id: OTHER, ...NOVA_DEFAULTS } });
    expect((await get(`/os-quota-sets/${P}`)).body.quota_set.instances).toBe(10);
  });

  it('update (admin): the answer has no id; show and defaults then differ; values may be strings of digits', async () => {
    const res = await setQuota(P, { instances: '6', cores: 12, ram: -1 });
    expect(res.body).toEqual({ quota_set: { ...NOVA_DEFAULTS, instances: 6, cores: 12, ram: -1 } });
    expect((await get(`/os-quota-sets/${P}`)).body.quota_set).toMatchObject({ id: P, instances: 6, cores: 12, ram: -1 });
    expect((await get(`/os-quota-sets/${P}/defaults`)).body.quota_set).toMatchObject({ instances: 10, cores: 20, ram: 51200 });
    await del(`/os-quota-sets/${P}`).expect(202);
  });

  it("update refuses what Nova's schema refuses: a resource gone at that microversion, below -1, a non-integer, an unknown key", async () => {
    const at236 = await put(`/os-quota-sets/${P}`, { quota_set: { floating_ips: 3 } }, tok.admin, '2.36');
    expect(at236.status).toBe(400);
    expect(at236.body.badRequest.message).toMatch(/Additional properties are not allowed \('floating_ips' was unexpected\)/);
    const at257 = await put(`/os-quota-sets/${P}`, { quota_set: { injected_files: 3 } }, tok.admin, '2.57');
    expect(at257.body.badRequest.message).toMatch(/'injected_files' was unexpected/);
    expect((await put(`/os-quota-sets/${P}`, { quota_set: { floating_ips: 3 } }, tok.admin, '2.35')).status).toBe(200);
    const bodies = [
      { quota_set: { instances: -2 } },
      { quota_set: { instances: 'many' } },
      { quota_set: { instances: 1.5 } },
      { quota_set: { volumes: 3 } },
      {},
    ];
    for (const bad of bodies) {
      const res = await put(`/os-quota-sets/${P}`, bad);
      expect({ bad, status: res.status, fault: Object.keys(res.body) }).toEqual({ bad, status: 400, fault: ['badRequest'] });
    }
    // Cinder's quota set knows no compute resource either.
    const cinder = await api()
      .put(`/v3/${PADMIN}/os-quota-sets/${P}`)
      .set({ 'X-Auth-Token': tok.admin })
      .send({ quota_set: { instances: 3 } });
    expect(cinder.body).toEqual({ badRequest: { code: 400, message: 'Invalid input received: Bad key(s) in quota set: instances' } });
    await del(`/os-quota-sets/${P}`).expect(202);
  });

  it("from 2.75 an unknown query parameter is a 400; user_id is known (a user's quota is its project's)", async () => {
    expect((await get(`/os-quota-sets/${P}?foo=1`, tok.member, '2.74')).status).toBe(200);
    expect((await get(`/os-quota-sets/${P}?foo=1`, tok.member, '2.75')).body).toEqual({
      badRequest: { code: 400, message: "Additional properties are not allowed ('foo' was unexpected)" },
    });
    expect((await get(`/os-quota-sets/${P}?user_id=u`, tok.member, '2.75')).body.quota_set.instances).toBe(10);
  });

  it('quota-class default (admin): changes every project without a limit of its own; server groups shown from 2.50', async () => {
    expect((await get('/os-quota-class-sets/default')).status).toBe(403);
    const at21 = (await get('/os-quota-class-sets/default', tok.admin)).body.quota_class_set;
    expect(at21).toEqual({ id: 'default', ...without(NOVA_DEFAULTS, 'server_groups', 'server_group_members') });
    expect((await get('/os-quota-class-sets/default', tok.admin, '2.50')).body.quota_class_set).toEqual({
      id: 'default',
      ...without(NOVA_DEFAULTS, ...NETWORK),
    });
    const res = await put('/os-quota-class-sets/default', { quota_class_set: { key_pairs: 7 } });
    expect(res.body).toEqual({ quota_class_set: without({ ...NOVA_DEFAULTS, key_pairs: 7 }, 'server_groups', 'server_group_members') });
    expect((await get(`/os-quota-sets/${OTHER}`, tok.admin)).body.quota_set.key_pairs).toBe(7);
    // Another class falls back to the default class.
    expect((await get('/os-quota-class-sets/gold', tok.admin)).body.quota_class_set).toMatchObject({
      id: 'gold',
      key_pairs: 7,
      instances: 10,
    });
    await put('/os-quota-class-sets/default', { quota_class_set: { key_pairs: 100 } }).expect(200);
  });
});

describe('GET /limits', () => {
  const ABSOLUTE_21 = [
    'maxImageMeta',
    'maxPersonality',
    'maxPersonalitySize',
    'maxSecurityGroupRules',
    'maxSecurityGroups',
    'maxServerGroupMembers',
    'maxServerGroups',
    'maxServerMeta',
    'maxTotalCores',
    'maxTotalFloatingIps',
    'maxTotalInstances',
    'maxTotalKeypairs',
    'maxTotalRAMSize',
    'totalCoresUsed',
    'totalFloatingIpsUsed',
    'totalInstancesUsed',
    'totalRAMUsed',
    'totalSecurityGroupsUsed',
    'totalServerGroupsUsed',
  ];
  const drop = (...keys: string[]) => ABSOLUTE_21.filter((k) => !keys.includes(k));
  const AT_236 = drop(
    'maxSecurityGroups',
    'maxSecurityGroupRules',
    'maxTotalFloatingIps',
    'totalFloatingIpsUsed',
    'totalSecurityGroupsUsed',
  );

  it('the absolute keys of each microversion range (2.36, 2.39, 2.57), rate always empty', async () => {
    for (const [v, keys] of [
      ['2.1', ABSOLUTE_21],
      ['2.35', ABSOLUTE_21],
      ['2.36', AT_236],
      ['2.38', AT_236],
      ['2.39', AT_236.filter((k) => k !== 'maxImageMeta')],
      ['2.57', AT_236.filter((k) => !['maxImageMeta', 'maxPersonality', 'maxPersonalitySize'].includes(k))],
    ] as const) {
      const res = await get('/limits', tok.member, v);
      expect({ v, rate: res.body.limits.rate, keys: Object.keys(res.body.limits.absolute).sort() }).toEqual({
        v,
        rate: [],
        keys: [...keys].sort(),
      });
    }
    expect((await get('/limits')).body.limits.absolute).toMatchObject({
      maxTotalInstances: 10,
      maxTotalCores: 20,
      maxTotalRAMSize: 51200,
      maxServerMeta: 128,
      maxImageMeta: 128,
      maxPersonality: 5,
      maxPersonalitySize: 10240,
      maxTotalKeypairs: 100,
      maxTotalFloatingIps: -1,
      totalInstancesUsed: 0,
      totalCoresUsed: 0,
      totalRAMUsed: 0,
    });
  });

  it("tenant_id is for admins (os_compute_api:limits:other_project), even naming the caller's own project", async () => {
    for (const project of [OTHER, P]) {
      expect((await get(`/limits?tenant_id=${project}`)).body).toEqual({
        forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:limits:other_project to be performed." },
      });
    }
    await setQuota(OTHER, { instances: 4 });
    expect((await get(`/limits?tenant_id=${OTHER}`, tok.admin)).body.limits.absolute.maxTotalInstances).toBe(4);
    expect((await get('/limits', tok.admin)).body.limits.absolute.maxTotalInstances).toBe(10);
    await del(`/os-quota-sets/${OTHER}`).expect(202);
  });
});

describe('server create against the quota', () => {
  it("instances, cores and RAM are counted from the servers: detail and limits show them; over the limit is Nova's 403", async () => {
    await setQuota(P, { instances: 2 });
    const ids: string[] = [];
    for (const flavor of ['1', '3']) {
      // m1.tiny (1 vCPU, 512 MiB), m1.medium (2 vCPUs, 4096 MiB)
      const res = await createServer(flavor);
      expect(res.status).toBe(202);
      ids.push(res.body.server.id);
    }
    const detail = (await get(`/os-quota-sets/${P}/detail`)).body.quota_set;
    expect(detail).toMatchObject({
      id: P,
      instances: { limit: 2, in_use: 2, reserved: 0 },
      cores: { limit: 20, in_use: 3, reserved: 0 },
      ram: { limit: 51200, in_use: 4608, reserved: 0 },
      key_pairs: { limit: 100, in_use: 0, reserved: 0 },
    });
    expect((await get('/limits')).body.limits.absolute).toMatchObject({
      maxTotalInstances: 2,
      totalInstancesUsed: 2,
      totalCoresUsed: 3,
      totalRAMUsed: 4608,
    });
    const over = await createServer('1');
    expect({ status: over.status, body: over.body }).toEqual({
      status: 403,
      body: { forbidden: { code: 403, message: 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances' } },
    });
    // Several resources over: sorted by name, each with its figures.
    await setQuota(P, { instances: 2, cores: 4, ram: 8192 });
    const many = await createServer('3');
    expect(many.body.forbidden.message).toBe(
      'Quota exceeded for cores, instances, ram: Requested 2, 1, 4096, but already used 3, 2, 4608 of 4, 2, 8192 cores, instances, ram',
    );
    // The refused creates left no server behind.
    expect((await get('/servers')).body.servers.map((s: any) => s.id).sort()).toEqual([...ids].sort());
    // A limit below usage is refused with Nova's text, unless forced.
    expect((await put(`/os-quota-sets/${P}`, { quota_set: { instances: 1 } })).body).toEqual({
      badRequest: { code: 400, message: 'Quota limit 1 for instances must be greater than or equal to already used and reserved 2.' },
    });
    expect((await put(`/os-quota-sets/${P}`, { quota_set: { cores: '-5' } })).body.badRequest.message).toBe(
      'Quota limit -5 for cores must be greater than or equal to already used and reserved 3.',
    );
    expect((await put(`/os-quota-sets/${P}`, { quota_set: { instances: 1, force: true } })).body.quota_set.instances).toBe(1);
    // A deleted server no longer counts.
    await setQuota(P, { instances: 2, cores: 20, ram: 51200 });
    await removeServer(ids.pop()!);
    const again = await createServer('1');
    expect(again.status).toBe(202);
    ids.push(again.body.server.id);
    for (const id of ids) await removeServer(id);
    await del(`/os-quota-sets/${P}`).expect(202);
  }, 60_000);

  it('metadata items over metadata_items: 403 "Maximum number of metadata items exceeds N"', async () => {
    await setQuota(P, { metadata_items: 1 });
    const res = await createServer('1', { metadata: { a: '1', b: '2' } });
    expect(res.body).toEqual({ forbidden: { code: 403, message: 'Maximum number of metadata items exceeds 1' } });
    await del(`/os-quota-sets/${P}`).expect(202);
  });

  it('concurrent creates never exceed the instances quota', async () => {
    await setQuota(P, { instances: 1 });
    const results = await Promise.all([createServer('1'), createServer('1'), createServer('1')]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 403, 403]);
    await removeServer(results.find((r) => r.status === 202)!.body.server.id);
    await del(`/os-quota-sets/${P}`).expect(202);
  }, 60_000);
});

describe('one table, two services', () => {
  it("Nova's delete leaves the volume limits, Cinder's leaves the compute limits; quota verify ignores compute rows", async () => {
    const cinder = (method: 'put' | 'get' | 'delete', body?: unknown) => {
      const r = (api() as any)[method](`/v3/${PADMIN}/os-quota-sets/${P}`).set({ 'X-Auth-Token': tok.admin });
      return (body ? r.send(body) : r) as request.Test;
    };
    await cinder('put', { quota_set: { volumes: 3 } }).expect(200);
    await setQuota(P, { instances: 3 });
    await del(`/os-quota-sets/${P}`).expect(202);
    expect((await cinder('get')).body.quota_set.volumes).toBe(3);
    await setQuota(P, { instances: 3 });
    await cinder('delete').expect(200);
    expect((await cinder('get')).body.quota_set.volumes).toBe(10);
    expect((await get(`/os-quota-sets/${P}`)).body.quota_set.instances).toBe(3);
    const report = await verifyQuotas(cairn.db);
    expect(report.warnings.filter((w) => w.includes('instances'))).toEqual([]);
    await del(`/os-quota-sets/${P}`).expect(202);
  });
});
