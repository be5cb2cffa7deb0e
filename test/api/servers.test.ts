/**
 * Servers: boot from volume through the volume services, stop/start with
 * Nova's 409s, delete honouring delete_on_termination and leaving the
 * server folder empty and gone (seed 000), builds that fail or that lose
 * their driver.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { liftQuotas, PROJECT, startTestCairn, USER, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21, v3, VOLUME_HEADERS } from '../helpers/compute';
import { anImage } from '../helpers/images';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
beforeAll(async () => {
  // A short lease, so that a build nobody drives is taken over within the test.
  cairn = await startTestCairn({ CAIRN_TASK_LEASE_SECONDS: '2' });
  await liftQuotas(cairn.url);
  nova = computeApi(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const bfv = (...more: Array<Record<string, unknown>>) => ({
  imageRef: '',
  block_device_mapping_v2: [blankRoot(1, { delete_on_termination: true }), ...more],
});

describe('boot from volume', () => {
  it('a blank root volume is created, charged and attached: ACTIVE, the volume in-use under <dir>/<server>/', async () => {
    const s = await nova.boot(bfv());
    expect(s).toMatchObject({ status: 'ACTIVE', 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1, image: '' });
    const [root] = s['os-extended-volumes:volumes_attached'];
    expect(root.delete_on_termination).toBe(true);
    const vol = await nova.cinderVolume(root.id);
    expect(vol).toMatchObject({ status: 'in-use', size: 1, bootable: 'false', name: `${s.id}-blank-vol` });
    expect(vol.attachments).toEqual([expect.objectContaining({ server_id: s.id, device: '/dev/vda', volume_id: root.id })]);
    expect(fs.existsSync(path.join(dir(), s.id, `volume-${root.id}`))).toBe(true);
    const detail = await nova.api().get(v21('/servers/detail')).set(novaHeaders());
    expect(detail.body.servers.find((x: any) => x.id === s.id)['os-extended-volumes:volumes_attached']).toEqual([root]);
    // Below 2.3 only the volume id (views/servers.py:_add_volumes_attachments).
    expect((await nova.show(s.id, '2.1'))['os-extended-volumes:volumes_attached']).toEqual([{ id: root.id }]);
  });

  it("the root volume counts against the project's volume quota like any other", async () => {
    const before = (
      await nova
        .api()
        .get(v3(`/os-quota-sets/${PROJECT}?usage=True`))
        .set(VOLUME_HEADERS)
    ).body.quota_set;
    await nova.boot({ imageRef: '', block_device_mapping_v2: [blankRoot(2)] });
    const after = (
      await nova
        .api()
        .get(v3(`/os-quota-sets/${PROJECT}?usage=True`))
        .set(VOLUME_HEADERS)
    ).body.quota_set;
    expect(after.volumes.in_use).toBe(before.volumes.in_use + 1);
    expect(after.gigabytes.in_use).toBe(before.gigabytes.in_use + 2);
  });

  it('a volume that fails to be created ends the build in ERROR with a fault; nothing stays in BUILD', async () => {
    const type = await nova
      .api()
      .post(v3('/types'))
      .set(VOLUME_HEADERS)
      .send({ volume_type: { name: `nowhere-${randomUUID().slice(0, 6)}`, extra_specs: { volume_backend_name: 'nosuchbackend' } } });
    const res = await nova.create({
      imageRef: '',
      block_device_mapping_v2: [blankRoot(1, { volume_type: type.body.volume_type.name, delete_on_termination: true })],
    });
    expect(res.status).toBe(202);
    const s = await nova.waitStatus(res.body.server.id, 'ERROR');
    expect(s.fault).toEqual({
      code: 500,
      created: expect.stringMatching(/Z$/),
      message: expect.stringMatching(
        new RegExp(`^Build of instance ${s.id} aborted: Volume [0-9a-f-]+ did not finish being created. And its status is error.$`),
      ),
    });
    // Deleting the failed server takes its delete_on_termination volume with it.
    const [vol] = s['os-extended-volumes:volumes_attached'];
    expect((await nova.remove(s.id)).status).toBe(204);
    await nova.waitGone(s.id);
    await nova.waitVolumeGone(vol.id);
  });

  it('a build whose driver died is taken over by the sweep once its lease ran out', async () => {
    const vol = await nova.volume({ bootable: true });
    const id = randomUUID();
    const now = new Date();
    // The rows a dead API left: BUILD, the volume mapped (not even reserved), the lease expired.
    await cairn.db('servers').insert({
      id,
      project_id: PROJECT,
      user_id: USER,
      name: 'orphan',
      vm_state: 'building',
      task_state: 'block_device_mapping',
      power_state: 0,
      flavor_id: '1',
      image_ref: '',
      root_device_name: '/dev/vda',
      availability_zone: 'nova',
      host: 'testhost',
      lease_until: new Date(Date.now() - 1000),
      created_at: now,
      updated_at: now,
    });
    await cairn.db('block_device_mappings').insert({
      id: randomUUID(),
      server_id: id,
      project_id: PROJECT,
      boot_index: 0,
      device_name: '/dev/vda',
      source_type: 'volume',
      destination_type: 'volume',
      volume_id: vol.id,
      volume_size: 1,
      delete_on_termination: false,
      created_at: now,
    });
    await nova.waitStatus(id, 'ACTIVE');
    expect((await nova.cinderVolume(vol.id)).status).toBe('in-use');
  });
});

describe('stop and start', () => {
  it("os-stop → SHUTOFF, os-start → ACTIVE (202); the wrong state → 409 with Nova's text (common.py:339)", async () => {
    const s = await nova.boot(bfv());
    expect((await nova.action(s.id, 'os-stop')).status).toBe(202);
    expect(await nova.show(s.id)).toMatchObject({ status: 'SHUTOFF', 'OS-EXT-STS:vm_state': 'stopped', 'OS-EXT-STS:power_state': 4 });
    const again = await nova.action(s.id, 'os-stop');
    expect(again.body).toEqual({
      conflictingRequest: { code: 409, message: `Cannot 'stop' instance ${s.id} while it is in vm_state stopped` },
    });
    expect((await nova.action(s.id, 'os-start')).status).toBe(202);
    expect((await nova.show(s.id)).status).toBe('ACTIVE');
    const started = await nova.action(s.id, 'os-start');
    expect(started.body).toEqual({
      conflictingRequest: { code: 409, message: `Cannot 'start' instance ${s.id} while it is in vm_state active` },
    });
  });

  it('a server being deleted refuses actions with its task_state', async () => {
    const s = await nova.boot(bfv());
    await cairn
      .db('servers')
      .where({ id: s.id })
      .update({ task_state: 'deleting', lease_until: new Date(Date.now() + 3_600_000) });
    const res = await nova.action(s.id, 'os-stop');
    expect(res.body.conflictingRequest.message).toBe(`Cannot 'stop' instance ${s.id} while it is in task_state deleting`);
    await cairn.db('servers').where({ id: s.id }).update({ task_state: null, lease_until: null });
  });
});

describe('delete', () => {
  it('204; detaches everything, deletes the delete_on_termination volumes, keeps the others; the folder is empty, then gone', async () => {
    const keep = await nova.volume();
    const s = await nova.boot(bfv({ source_type: 'volume', uuid: keep.id, destination_type: 'volume', boot_index: 1 }));
    const [root] = s['os-extended-volumes:volumes_attached'];
    expect(fs.readdirSync(path.join(dir(), s.id)).sort()).toEqual([`volume-${keep.id}`, `volume-${root.id}`].sort());
    const res = await nova.remove(s.id);
    expect(res.status).toBe(204);
    await nova.waitGone(s.id);
    await nova.waitVolumeGone(root.id);
    const kept = await nova.cinderVolume(keep.id);
    expect(kept).toMatchObject({ status: 'available', attachments: [] });
    expect(fs.existsSync(path.join(dir(), `volume-${keep.id}`))).toBe(true);
    expect(fs.existsSync(path.join(dir(), s.id))).toBe(false);
    expect(await cairn.db('block_device_mappings').where({ server_id: s.id })).toEqual([]);
    // Gone from lists too; deleting again is a 404.
    expect((await nova.api().get(v21('/servers')).set(novaHeaders())).body.servers.map((x: any) => x.id)).not.toContain(s.id);
    expect((await nova.remove(s.id)).status).toBe(404);
  });

  it('a server whose folder still holds data goes to ERROR with the reason, and the data stays', async () => {
    const s = await nova.boot(bfv());
    fs.writeFileSync(path.join(dir(), s.id, 'stray'), 'x');
    await nova.remove(s.id);
    const failed = await nova.waitStatus(s.id, 'ERROR');
    expect(failed.fault.message).toMatch(/^Could not remove the server's folder on backend file: .*still holds disk data: stray/);
    expect(fs.readFileSync(path.join(dir(), s.id, 'stray'), 'utf8')).toBe('x');
    fs.rmSync(path.join(dir(), s.id, 'stray'));
    await nova.remove(s.id);
    await nova.waitGone(s.id);
    expect(fs.existsSync(path.join(dir(), s.id))).toBe(false);
  });
});

describe('lists', () => {
  it('name (a regular expression), status and limit/marker with a next link', async () => {
    const tag = `lst${randomUUID().slice(0, 6)}`;
    const ids: string[] = [];
    const image = await anImage(cairn.url);
    for (let i = 0; i < 3; i++) ids.push((await nova.boot({ imageRef: image, name: `${tag}-${i}` })).id);
    await nova.action(ids[0]!, 'os-stop');
    const byName = await nova
      .api()
      .get(v21(`/servers?name=^${tag}`))
      .set(novaHeaders());
    expect(byName.body.servers.map((s: any) => s.id)).toEqual([...ids].reverse());
    const stopped = await nova
      .api()
      .get(v21(`/servers/detail?name=${tag}&status=SHUTOFF`))
      .set(novaHeaders());
    expect(stopped.body.servers.map((s: any) => s.id)).toEqual([ids[0]]);
    const page = await nova
      .api()
      .get(v21(`/servers?name=${tag}&limit=2`))
      .set(novaHeaders());
    expect(page.body.servers).toHaveLength(2);
    const next = new URL(page.body.servers_links[0].href);
    const rest = await nova.api().get(`${next.pathname}${next.search}`).set(novaHeaders());
    expect(rest.body.servers.map((s: any) => s.id)).toEqual([ids[0]]);
  });
});
