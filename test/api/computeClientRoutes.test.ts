/**
 * The compute routes real clients call around volumes (issue 15): a server's
 * addresses, its instance actions (with the extend_volume event of an
 * attached volume), key pairs, availability zones, the usage report, the
 * deprecated os-volumes/os-snapshots proxies (≤ 2.35), repeated sort keys,
 * deleted servers as list markers, and `{"os-stop": {}}`.
 */
import { liftQuotas, PROJECT, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21, v3, VOLUME_HEADERS } from '../helpers/compute';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  nova = computeApi(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const get = (p: string, v = '2.89') => nova.api().get(v21(p)).set(novaHeaders(v));
const bfv = (name: string) => ({ name, imageRef: '', block_device_mapping_v2: [blankRoot(1, { delete_on_termination: true })] });

describe('servers: addresses, actions, lists', () => {
  it('{"os-stop": {}} and {"os-start": {}} are accepted (Tempest sends an empty object); the actions are recorded', async () => {
    const s = await nova.boot(bfv('stopper'));
    const stop = await nova
      .api()
      .post(v21(`/servers/${s.id}/action`))
      .set(novaHeaders())
      .send({ 'os-stop': {} });
    expect(stop.status).toBe(202);
    await nova.waitStatus(s.id, 'SHUTOFF');
    expect(
      (
        await nova
          .api()
          .post(v21(`/servers/${s.id}/action`))
          .set(novaHeaders())
          .send({ 'os-start': {} })
      ).status,
    ).toBe(202);
    await nova.waitStatus(s.id, 'ACTIVE');
    const list = await get(`/servers/${s.id}/os-instance-actions`);
    expect(list.status).toBe(200);
    expect(list.body.instanceActions.map((a: any) => a.action)).toEqual(['start', 'stop', 'create']);
    expect(list.body.instanceActions[0]).toEqual({
      action: 'start',
      instance_uuid: s.id,
      message: null,
      project_id: PROJECT,
      request_id: expect.stringMatching(/^req-/),
      start_time: expect.any(String),
      updated_at: expect.any(String),
      user_id: expect.any(String),
    });
    const one = await get(`/servers/${s.id}/os-instance-actions/${list.body.instanceActions[1].request_id}`);
    expect(one.body.instanceAction.events).toEqual([
      expect.objectContaining({ event: 'compute_stop_instance', result: 'Success', finish_time: expect.any(String) }),
    ]);
    // Below 2.58 no updated_at.
    expect((await get(`/servers/${s.id}/os-instance-actions`, '2.21')).body.instanceActions[0]).not.toHaveProperty('updated_at');
    expect((await get(`/servers/${s.id}/os-instance-actions/req-nope`)).status).toBe(404);
  });

  it('accessIPv4/accessIPv6 given at create are shown (the v6 one canonical, as netaddr), and changed by update', async () => {
    const s = await nova.boot({ ...bfv('access'), accessIPv4: '1.1.1.1', accessIPv6: '0000:0000:0000:0000:0000:babe:220.12.22.2' });
    expect([s.accessIPv4, s.accessIPv6]).toEqual(['1.1.1.1', '::babe:dc0c:1602']);
    const upd = await nova
      .api()
      .put(v21(`/servers/${s.id}`))
      .set(novaHeaders())
      .send({ server: { accessIPv4: '2.2.2.2' } });
    expect(upd.body.server.accessIPv4).toBe('2.2.2.2');
    const bad = await nova.create({ ...bfv('bad-ip'), accessIPv4: 'not-an-ip' });
    expect(bad.status).toBe(400);
  });

  it('GET /servers/{id}/ips: no addresses without a network service; an unknown server or network is a 404', async () => {
    const s = await nova.boot(bfv('ips'));
    expect((await get(`/servers/${s.id}/ips`)).body).toEqual({ addresses: {} });
    expect((await get(`/servers/${s.id}/ips/private`)).status).toBe(404);
    expect((await get('/servers/6a0b2a4e-0000-4000-8000-000000000000/ips')).status).toBe(404);
  });

  it('extending an attached volume records extend_volume with a finished compute_extend_volume event', async () => {
    const s = await nova.boot(bfv('extender'));
    const vol = await nova.volume();
    expect((await nova.attach(s.id, { volumeId: vol.id })).status).toBe(200);
    await nova.waitVolume(vol.id, 'in-use');
    const ext = await nova
      .api()
      .post(v3(`/volumes/${vol.id}/action`))
      .set(VOLUME_HEADERS)
      .send({ 'os-extend': { new_size: 2 } });
    expect(ext.status).toBe(202);
    const action = await waitFor(
      async () => (await get(`/servers/${s.id}/os-instance-actions`)).body.instanceActions.find((a: any) => a.action === 'extend_volume'),
      20_000,
      'extend_volume',
    );
    const shown = await get(`/servers/${s.id}/os-instance-actions/${action.request_id}`, '2.51');
    expect(shown.body.instanceAction.events).toEqual([
      expect.objectContaining({ event: 'compute_extend_volume', result: 'Success', finish_time: expect.any(String) }),
    ]);
    expect((await get(`/servers/${s.id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action)).toContain('attach_volume');
  });

  it('repeated sort_key/sort_dir pairs sort by each (Horizon), and a deleted server is still a marker', async () => {
    const names = ['sort-b', 'sort-a', 'sort-c'];
    const ids: string[] = [];
    for (const n of names) ids.push((await nova.boot(bfv(n))).id);
    const q = '?sort_key=display_name&sort_key=uuid&sort_dir=asc&sort_dir=desc&name=^sort-';
    const sorted = await get(`/servers/detail${q}`);
    expect(sorted.status).toBe(200);
    expect(sorted.body.servers.map((s: any) => s.name)).toEqual(['sort-a', 'sort-b', 'sort-c']);
    const horizon = await get(
      '/servers/detail?sort_key=created_at&sort_key=display_name&sort_key=uuid&sort_dir=desc&sort_dir=desc&sort_dir=desc&name=^sort-',
    );
    expect(horizon.body.servers.map((s: any) => s.name)).toEqual(['sort-c', 'sort-a', 'sort-b']);
    const bad = await get('/servers/detail?sort_key=bogus');
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain('bogus');
    // The marker: sort-a (the middle one by created_at desc) deleted, then used to page on.
    expect((await nova.remove(ids[1]!)).status).toBe(204);
    await nova.waitGone(ids[1]!);
    const after = await get(`/servers/detail?marker=${ids[1]}&name=^sort-`);
    expect(after.status).toBe(200);
    expect(after.body.servers.map((s: any) => s.name)).toEqual(['sort-b']);
  });
});

describe('key pairs, availability zones, usage', () => {
  it('os-keypairs: generate (201 with private_key), import, list, show, 409 on a duplicate, delete (204), 404 after', async () => {
    const gen = await nova
      .api()
      .post(v21('/os-keypairs'))
      .set(novaHeaders('2.2'))
      .send({ keypair: { name: 'gen' } });
    expect(gen.status).toBe(201);
    expect(gen.body.keypair).toMatchObject({
      name: 'gen',
      type: 'ssh',
      public_key: expect.stringMatching(/^ssh-rsa /),
      private_key: expect.stringContaining('PRIVATE KEY'),
    });
    expect(gen.body.keypair.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const imported = await nova
      .api()
      .post(v21('/os-keypairs'))
      .set(novaHeaders('2.1'))
      .send({ keypair: { name: 'imp', public_key: gen.body.keypair.public_key } });
    expect(imported.status).toBe(200);
    expect(imported.body.keypair).not.toHaveProperty('private_key');
    expect(imported.body.keypair.fingerprint).toBe(gen.body.keypair.fingerprint);
    const dup = await nova
      .api()
      .post(v21('/os-keypairs'))
      .set(novaHeaders())
      .send({ keypair: { name: 'imp', public_key: gen.body.keypair.public_key } });
    expect(dup.status).toBe(409);
    const junk = await nova
      .api()
      .post(v21('/os-keypairs'))
      .set(novaHeaders())
      .send({ keypair: { name: 'junk', public_key: 'not a key' } });
    expect(junk.status).toBe(400);
    expect((await get('/os-keypairs')).body.keypairs.map((k: any) => k.keypair.name)).toEqual(['gen', 'imp']);
    expect((await get('/os-keypairs/imp')).body.keypair).toMatchObject({ name: 'imp', user_id: expect.any(String), deleted: false });
    expect((await nova.api().delete(v21('/os-keypairs/imp')).set(novaHeaders())).status).toBe(204);
    expect((await get('/os-keypairs/imp')).status).toBe(404);
  });

  it('os-availability-zone lists the zone; detail (admin) its hosts', async () => {
    expect((await get('/os-availability-zone')).body).toEqual({
      availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }],
    });
    const detail = await get('/os-availability-zone/detail');
    expect(detail.body.availabilityZoneInfo.find((z: any) => z.zoneName === 'nova').hosts.testhost['nova-compute'].available).toBe(true);
  });

  it("os-services (admin) lists the host's nova services; binary filters them; ids are uuids from 2.53", async () => {
    const all = (await get('/os-services', '2.1')).body.services;
    expect(all.map((x: any) => [x.binary, x.zone, x.state, x.status])).toEqual([
      ['nova-scheduler', 'internal', 'up', 'enabled'],
      ['nova-conductor', 'internal', 'up', 'enabled'],
      ['nova-compute', 'nova', 'up', 'enabled'],
    ]);
    expect(all[0].id).toBe(1);
    const compute = (await get('/os-services?binary=nova-compute', '2.53')).body.services;
    expect(compute).toEqual([
      expect.objectContaining({
        binary: 'nova-compute',
        host: 'testhost',
        forced_down: false,
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      }),
    ]);
  });

  it('os-simple-tenant-usage: a project with servers has totals and server_usages; one without has {}', async () => {
    await nova.boot(bfv('usage'));
    const start = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
    const end = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
    const mine = await get(`/os-simple-tenant-usage/${PROJECT}?start=${start}&end=${end}`);
    expect(mine.status).toBe(200);
    expect(mine.body.tenant_usage).toMatchObject({
      tenant_id: PROJECT,
      total_hours: expect.any(Number),
      total_vcpus_usage: expect.any(Number),
    });
    expect(mine.body.tenant_usage.server_usages.map((u: any) => u.name)).toContain('usage');
    const other = await get(`/os-simple-tenant-usage/ffffffffffffffffffffffffffffffff?start=${start}&end=${end}`);
    expect(other.body).toEqual({ tenant_usage: {} });
    const all = await get(`/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1`);
    expect(all.body.tenant_usages.map((u: any) => u.tenant_id)).toEqual([PROJECT]);
    expect((await get(`/os-simple-tenant-usage?start=${end}&end=${start}`)).status).toBe(400);
    // 2.40 paging, as Horizon walks it: on with the last server's id until a page has none.
    const last = mine.body.tenant_usage.server_usages.at(-1).instance_id;
    expect((await get(`/os-simple-tenant-usage/${PROJECT}?start=${start}&end=${end}&marker=${last}`, '2.40')).body).toEqual({
      tenant_usage: {},
    });
    const firstOnly = await get(`/os-simple-tenant-usage/${PROJECT}?start=${start}&end=${end}&limit=1`, '2.40');
    expect(firstOnly.body.tenant_usage.server_usages).toHaveLength(1);
    expect((await get(`/os-simple-tenant-usage?start=${start}&end=${end}&marker=${last}`, '2.40')).body).toEqual({ tenant_usages: [] });
  });
});

describe('the deprecated os-volumes and os-snapshots proxies', () => {
  it("create, show, list (limit/offset), snapshot, delete, in Nova's shapes; gone from 2.36", async () => {
    const created = await nova
      .api()
      .post(v21('/os-volumes'))
      .set(novaHeaders('2.35'))
      .send({ volume: { size: 1, display_name: 'proxied', display_description: 'via nova', metadata: { k: 'v' } } });
    expect(created.status).toBe(200);
    expect(created.body.volume).toEqual({
      id: expect.any(String),
      status: 'creating',
      size: 1,
      availabilityZone: 'nova',
      createdAt: expect.any(String),
      attachments: [{}],
      displayName: 'proxied',
      displayDescription: 'via nova',
      volumeType: expect.any(String),
      snapshotId: null,
      metadata: { k: 'v' },
    });
    const id = created.body.volume.id;
    await nova.waitVolume(id, 'available');
    expect((await get(`/os-volumes/${id}`, '2.1')).body.volume.status).toBe('available');
    expect((await get('/os-volumes/detail?limit=1', '2.35')).body.volumes).toHaveLength(1);
    expect((await get('/os-volumes?limit=1&offset=99', '2.35')).body.volumes).toEqual([]);
    expect((await get('/os-volumes', '2.36')).status).toBe(404);
    // No id is no route (Tempest's "without passing volume id"), not the list.
    expect((await get('/os-volumes/', '2.1')).status).toBe(404);
    expect((await nova.api().delete(v21('/os-volumes/')).set(novaHeaders('2.1'))).status).toBe(404);
    const bad = await nova
      .api()
      .post(v21('/os-volumes'))
      .set(novaHeaders('2.1'))
      .send({ volume: { size: '#' } });
    expect(bad.status).toBe(400);

    const snap = await nova
      .api()
      .post(v21('/os-snapshots'))
      .set(novaHeaders('2.1'))
      .send({ snapshot: { volume_id: id, display_name: 'ps', force: false } });
    expect(snap.status).toBe(200);
    expect(snap.body.snapshot).toEqual({
      id: expect.any(String),
      volumeId: id,
      status: 'creating',
      size: 1,
      createdAt: expect.any(String),
      displayName: 'ps',
      displayDescription: null,
    });
    await waitFor(
      async () => (await get(`/os-snapshots/${snap.body.snapshot.id}`, '2.1')).body.snapshot?.status === 'available',
      20_000,
      'snapshot',
    );
    expect((await get('/os-snapshots/detail', '2.1')).body.snapshots.map((s: any) => s.id)).toContain(snap.body.snapshot.id);
    expect(
      (
        await nova
          .api()
          .delete(v21(`/os-snapshots/${snap.body.snapshot.id}`))
          .set(novaHeaders('2.1'))
      ).status,
    ).toBe(202);
    await waitFor(async () => (await get(`/os-snapshots/${snap.body.snapshot.id}`, '2.1')).status === 404, 20_000, 'snapshot gone');
    expect(
      (
        await nova
          .api()
          .delete(v21(`/os-volumes/${id}`))
          .set(novaHeaders('2.1'))
      ).status,
    ).toBe(202);
    await nova.waitVolumeGone(id);
    expect((await get(`/os-volumes/${id}`, '2.1')).status).toBe(404);
  });

  it('a volume attached through Nova shows the attachment as Nova does', async () => {
    const s = await nova.boot(bfv('proxy-attach'));
    const vol = await nova.volume();
    await nova.attach(s.id, { volumeId: vol.id });
    await nova.waitVolume(vol.id, 'in-use');
    expect((await get(`/os-volumes/${vol.id}`, '2.1')).body.volume.attachments).toEqual([
      { id: vol.id, volumeId: vol.id, serverId: s.id, device: expect.stringMatching(/^\/dev\/vd/) },
    ]);
  });
});
