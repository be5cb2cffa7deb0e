/**
 * os-hosts, scheduler-stats/get_pools, capabilities/{host} and os-services
 * filtered by host: what the volume services' heartbeats report, admin only.
 */
import type request from 'supertest';
import { waitFor } from '../helpers/cairn';
import { personas, type WhoOf } from '../helpers/personas';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa11';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb22';
const team = personas(
  {
    admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
    member: { user: 'm2', project: P2, roles: ['member', 'reader'] },
  },
  {
    // Two file backends: two volume services on host `testhost`, two pools.
    env: { CAIRN_BACKENDS: 'file,slow' },
    mv: '3.70',
  },
);
type Who = WhoOf<typeof team>;

const get = (who: Who, p: string, mv?: string) => team.call(who, 'get', p, undefined, mv);
const post = (who: Who, p: string, body: object) => team.call(who, 'post', p, body);

async function availableVolume(who: 'admin' | 'member', body: object = {}): Promise<any> {
  const res = await post(who, '/volumes', { volume: { size: 1, ...body } });
  expect(res.status).toBe(202);
  return waitFor(async () => {
    const v = (await get(who, `/volumes/${res.body.volume.id}`)).body.volume;
    return v?.status === 'available' && v;
  }, 30_000);
}

describe('scheduler-stats/get_pools', () => {
  it('names one pool per volume service backend; detail adds the reported capabilities and the allocated GiB', async () => {
    await waitFor(async () => (await get('admin', '/scheduler-stats/get_pools')).body.pools?.length === 2, 20_000, 'two pools');
    expect((await get('admin', '/scheduler-stats/get_pools')).body).toEqual({
      pools: [{ name: 'testhost@file#file' }, { name: 'testhost@slow#slow' }],
    });
    await availableVolume('member', { size: 3 });
    const detail = (await get('admin', '/scheduler-stats/get_pools?detail=True')).body.pools;
    expect(detail.map((p: any) => p.name)).toEqual(['testhost@file#file', 'testhost@slow#slow']);
    expect(detail[0].capabilities).toMatchObject({
      pool_name: 'file',
      volume_backend_name: 'file',
      vendor_name: 'cairn',
      storage_protocol: 'file',
      driver_version: '1.0',
      total_capacity_gb: 'unknown',
      free_capacity_gb: 'unknown',
      reserved_percentage: 0,
      QoS_support: false,
      multiattach: true,
    });
    expect(detail[0].capabilities.allocated_capacity_gb).toBeGreaterThanOrEqual(3);
    expect(detail[1].capabilities.allocated_capacity_gb).toBe(0);
    expect(typeof detail[0].capabilities.timestamp).toBe('string');
  });

  it('filters by name from 3.28 only; a bad detail value is a 400; a member is refused', async () => {
    expect((await get('admin', '/scheduler-stats/get_pools?name=testhost@slow%23slow')).body.pools).toEqual([
      { name: 'testhost@slow#slow' },
    ]);
    expect((await get('admin', '/scheduler-stats/get_pools?name=testhost@slow%23slow', '3.27')).body.pools).toHaveLength(2);
    expect((await get('admin', '/scheduler-stats/get_pools?detail=maybe')).status).toBe(400);
    expect((await get('member', '/scheduler-stats/get_pools')).status).toBe(403);
  });
});

describe('capabilities/{host}', () => {
  it('reports the backend of a pool or backend name with the same vendor, backend name and protocol as its pool', async () => {
    for (const host of ['testhost@slow#slow', 'testhost@slow']) {
      const res = await get('admin', `/capabilities/${encodeURIComponent(host)}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        namespace: 'OS::Storage::Capabilities::testhost@slow',
        vendor_name: 'cairn',
        volume_backend_name: 'slow',
        pool_name: null,
        driver_version: '1.0',
        storage_protocol: 'file',
        display_name: null,
        description: null,
        visibility: null,
        replication_targets: [],
        properties: {
          thin_provisioning_support: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
          multiattach: { title: 'Multi-attach', description: 'Volumes may be attached to several servers at once.', type: 'boolean' },
        },
      });
    }
  });

  it("an unknown host is Cinder's 404; a member is refused", async () => {
    expect((await get('admin', '/capabilities/nowhere@x')).body).toEqual({
      itemNotFound: { code: 404, message: "Can't find service: nowhere@x" },
    });
    expect((await get('member', '/capabilities/testhost@file')).status).toBe(403);
  });
});

describe('os-hosts', () => {
  it("lists every service's host with Cinder's keys", async () => {
    const hosts = (await get('admin', '/os-hosts')).body.hosts;
    expect(hosts.map((h: any) => [h.host_name, h.service]).sort()).toEqual([
      ['testhost', 'cinder-backup'],
      ['testhost', 'cinder-scheduler'],
      ['testhost@file', 'cinder-volume'],
      ['testhost@slow', 'cinder-volume'],
    ]);
    for (const h of hosts) {
      expect(Object.keys(h).sort()).toEqual(['host_name', 'last-update', 'service', 'service-state', 'service-status', 'zone']);
      expect(h).toMatchObject({ zone: 'nova', 'service-status': 'available', 'service-state': 'enabled' });
    }
    expect((await get('admin', '/os-hosts?zone=elsewhere')).body.hosts).toEqual([]);
    expect((await get('member', '/os-hosts')).status).toBe(403);
  });

  it("shows a volume backend's usage in total and per project, every count a string", async () => {
    const before = (await get('admin', '/os-hosts/testhost@slow')).body.host;
    expect(before).toEqual([
      {
        resource: {
          host: 'testhost@slow',
          project: '(total)',
          volume_count: '0',
          total_volume_gb: '0',
          snapshot_count: '0',
          total_snapshot_gb: '0',
        },
      },
    ]);
    const type = await post('admin', '/types', { volume_type: { name: 'on-slow', extra_specs: { volume_backend_name: 'slow' } } });
    const v = await availableVolume('member', { size: 2, volume_type: type.body.volume_type.id });
    const snap = await post('member', '/snapshots', { snapshot: { volume_id: v.id } });
    expect(snap.status).toBe(202);
    await waitFor(async () => (await get('member', `/snapshots/${snap.body.snapshot.id}`)).body.snapshot.status === 'available', 30_000);
    await availableVolume('admin', { size: 1, volume_type: type.body.volume_type.id });
    const after = (await get('admin', '/os-hosts/testhost@slow')).body.host.map((h: any) => h.resource);
    expect(after).toEqual([
      { host: 'testhost@slow', project: '(total)', volume_count: '2', total_volume_gb: '3', snapshot_count: '1', total_snapshot_gb: '2' },
      { host: 'testhost@slow', project: P1, volume_count: '1', total_volume_gb: '1', snapshot_count: '0', total_snapshot_gb: '0' },
      { host: 'testhost@slow', project: P2, volume_count: '1', total_volume_gb: '2', snapshot_count: '1', total_snapshot_gb: '2' },
    ]);
  });

  it("a host without a volume service is a 404 (the scheduler's host too); a member is refused", async () => {
    expect((await get('admin', '/os-hosts/testhost')).status).toBe(404);
    expect((await get('admin', '/os-hosts/nowhere')).body.itemNotFound.message).toBe(
      'Service cinder-volume could not be found on host nowhere.',
    );
    expect((await get('member', '/os-hosts/testhost@file')).status).toBe(403);
  });
});

describe('os-services?host=', () => {
  it("a host name matches its backends' services too (Cinder's _filter_host); a backend only itself", async () => {
    const binaries = async (q: string) =>
      (await get('admin', `/os-services?${q}`)).body.services.map((s: any) => `${s.binary} ${s.host}`).sort();
    expect(await binaries('host=testhost')).toEqual([
      'cinder-backup testhost',
      'cinder-scheduler testhost',
      'cinder-volume testhost@file',
      'cinder-volume testhost@slow',
    ]);
    expect(await binaries('host=testhost&binary=cinder-volume')).toEqual(['cinder-volume testhost@file', 'cinder-volume testhost@slow']);
    expect(await binaries('host=testhost@file')).toEqual(['cinder-volume testhost@file']);
    expect(await binaries('host=testhos')).toEqual([]);
    expect(await binaries('host=test_ost')).toEqual([]);
  });
});

describe('PUT os-services/{action}', () => {
  const put = (who: Who, action: string, body: object, mv = '3.0') => team.call(who, 'put', `/os-services/${action}`, body, mv);
  const fault = (res: request.Response) => ({ status: res.status, body: res.body });
  const bad = (message: string) => ({ status: 400, body: { badRequest: { code: 400, message } } });

  it('refuses as Cinder does: unknown action, no host, unknown service, a missing or blank reason', async () => {
    expect(fault(await put('admin', 'reboot', { host: 'testhost@file', binary: 'cinder-volume' }))).toEqual(
      bad('Invalid input received: Unknown action'),
    );
    expect(fault(await put('admin', 'disable', { binary: 'cinder-volume' }))).toEqual(
      bad('Invalid input received: Host field is missing.'),
    );
    expect(fault(await put('admin', 'disable', { binary: 'cinder-volume' }, '3.26'))).toEqual(
      bad('Invalid input received: One and only one of cluster and host must be set.'),
    );
    expect(fault(await put('admin', 'enable', { host: 'invalid_host', binary: 'cinder-volume' }))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: 'Service cinder-volume could not be found on host invalid_host.' } },
    });
    expect((await put('admin', 'disable', { host: 'testhost@file', binary: 'invalid_binary' })).status).toBe(404);
    for (const disabled_reason of [null, '   ', 'x'.repeat(256)]) {
      expect(fault(await put('admin', 'disable-log-reason', { host: 'testhost@file', binary: 'cinder-volume', disabled_reason }))).toEqual(
        bad('Disabled reason contains invalid characters or is too long'),
      );
    }
    expect((await put('admin', 'disable', { host: 'testhost@file' })).status).toBe(400);
  });

  it('freeze and thaw: an unknown host is a 400 naming it', async () => {
    for (const action of ['freeze', 'thaw']) {
      expect(fault(await put('admin', action, { host: 'invalid_host' }))).toEqual(
        bad('Invalid input received: No service found with host=invalid_host'),
      );
    }
  });

  it('what Cinder would carry out is 501: placement does not consult service state, so nothing changes', async () => {
    for (const [action, body] of [
      ['disable', { host: 'testhost@file', binary: 'cinder-volume' }],
      ['freeze', { host: 'testhost@file' }],
      ['disable-log-reason', { host: 'testhost@file', binary: 'cinder-volume', disabled_reason: 'maintenance' }],
    ] as const) {
      expect({ action, status: (await put('admin', action, body)).status }).toEqual({ action, status: 501 });
    }
    const file = (await get('admin', '/os-services?host=testhost@file')).body.services[0];
    expect(file).toMatchObject({ status: 'enabled', disabled_reason: null });
    expect((await put('member', 'disable', { host: 'testhost@file', binary: 'cinder-volume' })).status).toBe(403);
  });
});
