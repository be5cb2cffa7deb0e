/**
 * `/servers/{id}/os-volume_attachments` (Nova's volumes.py) per microversion,
 * and detachable root volumes (seed 003, CloudStack/EC2): the root detaches
 * only from a stopped server, a detached root is an ordinary volume, and a
 * volume attached to a stopped server without a root becomes its root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21 } from '../helpers/compute';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  nova = computeApi(cairn.url);
});
afterAll(async () => { await cairn.stop(); });

const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const bfv = () => ({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
const attachments = (id: string, v: string) => nova.api().get(v21(`/servers/${id}/os-volume_attachments`)).set(novaHeaders(v));

describe('os-volume_attachments', () => {
  it('attach answers 200 with the device; list and show shape per microversion (2.1, 2.70, 2.79, 2.89)', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    const res = await nova.attach(s.id, { volumeId: vol.id, tag: 'data', delete_on_termination: true }, '2.79');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ volumeAttachment: { id: vol.id, serverId: s.id, volumeId: vol.id, device: '/dev/vdb', tag: 'data', delete_on_termination: true } });
    expect(await nova.cinderVolume(vol.id)).toMatchObject({ status: 'in-use', attachments: [expect.objectContaining({ server_id: s.id, device: '/dev/vdb' })] });
    expect(fs.existsSync(path.join(dir(), s.id, `volume-${vol.id}`))).toBe(true);

    const root = s['os-extended-volumes:volumes_attached'][0].id;
    expect((await attachments(s.id, '2.1')).body.volumeAttachments).toEqual([
      { id: root, volumeId: root, serverId: s.id, device: '/dev/vda' },
      { id: vol.id, volumeId: vol.id, serverId: s.id, device: '/dev/vdb' }]);
    expect((await attachments(s.id, '2.70')).body.volumeAttachments[1]).toEqual({ id: vol.id, volumeId: vol.id, serverId: s.id, device: '/dev/vdb', tag: 'data' });
    const at289 = (await attachments(s.id, '2.89')).body.volumeAttachments[1];
    expect(at289).toEqual({ volumeId: vol.id, serverId: s.id, device: '/dev/vdb', tag: 'data', delete_on_termination: true,
      attachment_id: expect.any(String), bdm_uuid: expect.any(String) });
    expect(at289.attachment_id).toBe((await nova.cinderVolume(vol.id)).attachments[0].attachment_id);
    const shown = await nova.api().get(v21(`/servers/${s.id}/os-volume_attachments/${vol.id}`)).set(novaHeaders('2.79'));
    expect(shown.body.volumeAttachment).toEqual({ id: vol.id, volumeId: vol.id, serverId: s.id, device: '/dev/vdb', tag: 'data', delete_on_termination: true });
  });

  it('refusals: tag before 2.49, a volume already attached, a device in use, an unknown volume, not attached (volumes.py, compute/api.py:4970)', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    const early = await nova.attach(s.id, { volumeId: vol.id, tag: 't' }, '2.48');
    expect(early.body.badRequest.message).toBe(`Invalid input for field/attribute volumeAttachment. Value: {'volumeId': '${vol.id}', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)`);
    const busy = await nova.attach(s.id, { volumeId: vol.id, device: '/dev/vda' });
    expect(busy.body).toEqual({ conflictingRequest: { code: 409, message: 'The supplied device path (/dev/vda) is in use.' } });
    expect((await nova.attach(s.id, { volumeId: vol.id })).status).toBe(200);
    const twice = await nova.attach(s.id, { volumeId: vol.id });
    expect(twice.body.badRequest.message).toBe(`Invalid volume: volume ${vol.id} is already attached to instances: ${s.id}`);
    const missing = randomUUID();
    expect((await nova.attach(s.id, { volumeId: missing })).body).toEqual({ itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` } });
    const other = await nova.volume();
    const show = await nova.api().get(v21(`/servers/${s.id}/os-volume_attachments/${other.id}`)).set(novaHeaders());
    expect(show.body).toEqual({ itemNotFound: { code: 404, message: `Instance ${s.id} is not attached to volume ${other.id}` } });
    expect((await nova.detach(s.id, other.id)).body.itemNotFound.message).toBe(`Instance ${s.id} is not attached to volume ${other.id}`);
  });

  it('update: delete_on_termination from 2.85 (202); other properties are not mutable; a swap is refused', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    await nova.attach(s.id, { volumeId: vol.id, tag: 'keep' }, '2.79');
    const put = (body: Record<string, unknown>, v = '2.85') =>
      nova.api().put(v21(`/servers/${s.id}/os-volume_attachments/${vol.id}`)).set(novaHeaders(v)).send({ volumeAttachment: body });
    expect((await put({ volumeId: vol.id, delete_on_termination: true, tag: 'keep', device: '/dev/vdb' })).status).toBe(202);
    expect((await attachments(s.id, '2.79')).body.volumeAttachments[1].delete_on_termination).toBe(true);
    expect((await put({ volumeId: vol.id, tag: 'other' })).body).toEqual({ badRequest: { code: 400, message: 'The tag property is not mutable' } });
    expect((await put({ volumeId: vol.id, device: '/dev/vdc' })).body.badRequest.message).toBe('The device property is not mutable');
    const other = await nova.volume();
    expect((await put({ volumeId: other.id })).body.badRequest.message).toBe('Swapping the volumes of a server is not supported by cairn.');
    expect((await put({ volumeId: other.id }, '2.84')).body.badRequest.message).toBe('Swapping the volumes of a server is not supported by cairn.');
    const unknown = randomUUID();
    const notMapped = await nova.api().put(v21(`/servers/${s.id}/os-volume_attachments/${unknown}`)).set(novaHeaders('2.85')).send({ volumeAttachment: { volumeId: unknown } });
    expect(notMapped.body).toEqual({ itemNotFound: { code: 404, message: `No volume Block Device Mapping with id ${unknown}.` } });
  });

  it('detach answers 202; the volume goes back to available and to the top level; delete_on_termination does not apply', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    await nova.attach(s.id, { volumeId: vol.id, delete_on_termination: true }, '2.79');
    expect((await nova.detach(s.id, vol.id)).status).toBe(202);
    await nova.waitVolume(vol.id, 'available');
    expect(fs.existsSync(path.join(dir(), `volume-${vol.id}`))).toBe(true);
    expect((await nova.show(s.id))['os-extended-volumes:volumes_attached']).toHaveLength(1);
  });
});

describe('detachable root volumes (seed 003)', () => {
  it('the root detaches only while SHUTOFF: 409 while ACTIVE, 202 while stopped; then the server will not start', async () => {
    const s = await nova.boot(bfv());
    const root = s['os-extended-volumes:volumes_attached'][0].id;
    const active = await nova.detach(s.id, root);
    expect(active.body).toEqual({ conflictingRequest: { code: 409,
      message: `Cannot detach the root device volume of instance ${s.id} while it is in vm_state active; stop it first` } });
    await nova.action(s.id, 'os-stop');
    expect((await nova.detach(s.id, root)).status).toBe(202);
    const vol = await nova.waitVolume(root, 'available');
    expect(vol.bootable).toBe('false');
    expect(fs.existsSync(path.join(dir(), `volume-${root}`))).toBe(true);
    expect((await nova.show(s.id))['os-extended-volumes:volumes_attached']).toEqual([]);
    const start = await nova.action(s.id, 'os-start');
    expect(start.body).toEqual({ conflictingRequest: { code: 409, message: `Cannot 'start' instance ${s.id}: it has no root volume; attach one while it is stopped` } });
    // A root-less server still deletes cleanly: its folder is empty and goes.
    await nova.remove(s.id);
    await nova.waitGone(s.id);
    expect(fs.existsSync(path.join(dir(), s.id))).toBe(false);
    expect((await nova.cinderVolume(root)).status).toBe('available');
  });

  it('a detached root attached to another stopped, root-less server becomes its root (/dev/vda) and it starts', async () => {
    const a = await nova.boot(bfv());
    const b = await nova.boot(bfv());
    const rootA = a['os-extended-volumes:volumes_attached'][0].id;
    const rootB = b['os-extended-volumes:volumes_attached'][0].id;
    for (const s of [a, b]) await nova.action(s.id, 'os-stop');
    await nova.detach(a.id, rootA);
    await nova.detach(b.id, rootB);
    await nova.waitVolume(rootA, 'available');
    const res = await nova.attach(b.id, { volumeId: rootA });
    expect(res.body.volumeAttachment.device).toBe('/dev/vda');
    expect(fs.existsSync(path.join(dir(), b.id, `volume-${rootA}`))).toBe(true);
    // It is the root now: the next volume is data, and it cannot be detached once started.
    await nova.waitVolume(rootB, 'available');
    expect((await nova.attach(b.id, { volumeId: rootB })).body.volumeAttachment.device).toBe('/dev/vdb');
    expect((await nova.action(b.id, 'os-start')).status).toBe(202);
    expect((await nova.detach(b.id, rootA)).status).toBe(409);
    expect((await nova.detach(b.id, rootB)).status).toBe(202);
  });

  it('attaching to a stopped server whose root is an image adds a data volume; the image root still boots', async () => {
    const image = await nova.boot({ imageRef: randomUUID() });
    await nova.action(image.id, 'os-stop');
    const v1 = await nova.volume();
    expect((await nova.attach(image.id, { volumeId: v1.id })).body.volumeAttachment.device).toBe('/dev/vdb');
    expect((await nova.action(image.id, 'os-start')).status).toBe(202);
  });
});
