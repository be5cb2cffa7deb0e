/**
 * `/servers/{id}/os-volume_attachments` (Nova's volumes.py) per microversion,
 * and detachable root volumes (seed 003, CloudStack/EC2): the root detaches
 * only from a stopped server, a detached root is an ordinary volume, and a
 * volume attached to a stopped server without a root becomes its root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21, v3, VOLUME_HEADERS, withComputeCairn } from '../helpers/compute';
import { anImage } from '../helpers/images';
import * as serversDb from '../../src/db/servers';
import { FakeKeystone } from '../helpers/fakeKeystone';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
withComputeCairn((c, n) => {
  cairn = c;
  nova = n;
});

const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const bfv = () => ({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
const attachments = (id: string, v: string) =>
  nova
    .api()
    .get(v21(`/servers/${id}/os-volume_attachments`))
    .set(novaHeaders(v));

describe('os-volume_attachments', () => {
  it('attach answers 200 with the device; list and show shape per microversion (2.1, 2.70, 2.79, 2.89)', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    const res = await nova.attach(s.id, { volumeId: vol.id, tag: 'data', delete_on_termination: true }, '2.79');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      volumeAttachment: { id: vol.id, serverId: s.id, volumeId: vol.id, device: '/dev/vdb', tag: 'data', delete_on_termination: true },
    });
    expect(await nova.cinderVolume(vol.id)).toMatchObject({
      status: 'in-use',
      attachments: [expect.objectContaining({ server_id: s.id, device: '/dev/vdb' })],
    });
    expect(fs.existsSync(path.join(dir(), s.id, `volume-${vol.id}`))).toBe(true);

    const root = s['os-extended-volumes:volumes_attached'][0].id;
    expect((await attachments(s.id, '2.1')).body.volumeAttachments).toEqual([
      { id: root, volumeId: root, serverId: s.id, device: '/dev/vda' },
      { id: vol.id, volumeId: vol.id, serverId: s.id, device: '/dev/vdb' },
    ]);
    expect((await attachments(s.id, '2.70')).body.volumeAttachments[1]).toEqual({
      id: vol.id,
      volumeId: vol.id,
      serverId: s.id,
      device: '/dev/vdb',
      tag: 'data',
    });
    const at289 = (await attachments(s.id, '2.89')).body.volumeAttachments[1];
    expect(at289).toEqual({
      volumeId: vol.id,
      serverId: s.id,
      device: '/dev/vdb',
      tag: 'data',
      delete_on_termination: true,
      attachment_id: expect.any(String),
      bdm_uuid: expect.any(String),
    });
    expect(at289.attachment_id).toBe((await nova.cinderVolume(vol.id)).attachments[0].attachment_id);
    const shown = await nova
      .api()
      .get(v21(`/servers/${s.id}/os-volume_attachments/${vol.id}`))
      .set(novaHeaders('2.79'));
    expect(shown.body.volumeAttachment).toEqual({
      id: vol.id,
      volumeId: vol.id,
      serverId: s.id,
      device: '/dev/vdb',
      tag: 'data',
      delete_on_termination: true,
    });
  });

  it('refusals: tag before 2.49, a volume already attached, a device in use, an unknown volume, not attached (volumes.py, compute/api.py:4970)', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    const early = await nova.attach(s.id, { volumeId: vol.id, tag: 't' }, '2.48');
    expect(early.body.badRequest.message).toBe(
      `Invalid input for field/attribute volumeAttachment. Value: {'volumeId': '${vol.id}', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)`,
    );
    const busy = await nova.attach(s.id, { volumeId: vol.id, device: '/dev/vda' });
    expect(busy.body).toEqual({ conflictingRequest: { code: 409, message: 'The supplied device path (/dev/vda) is in use.' } });
    expect((await nova.attach(s.id, { volumeId: vol.id })).status).toBe(200);
    const twice = await nova.attach(s.id, { volumeId: vol.id });
    expect(twice.body.badRequest.message).toBe(`Invalid volume: volume ${vol.id} is already attached to instances: ${s.id}`);
    const missing = randomUUID();
    expect((await nova.attach(s.id, { volumeId: missing })).body).toEqual({
      itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` },
    });
    const other = await nova.volume();
    const show = await nova
      .api()
      .get(v21(`/servers/${s.id}/os-volume_attachments/${other.id}`))
      .set(novaHeaders());
    expect(show.body).toEqual({ itemNotFound: { code: 404, message: `Instance ${s.id} is not attached to volume ${other.id}` } });
    expect((await nova.detach(s.id, other.id)).body.itemNotFound.message).toBe(`Instance ${s.id} is not attached to volume ${other.id}`);
  });

  it('update: delete_on_termination from 2.85 (202); other properties are not mutable (swaps: volumeSwap.test.ts)', async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    await nova.attach(s.id, { volumeId: vol.id, tag: 'keep' }, '2.79');
    const put = (body: Record<string, unknown>, v = '2.85') =>
      nova
        .api()
        .put(v21(`/servers/${s.id}/os-volume_attachments/${vol.id}`))
        .set(novaHeaders(v))
        .send({ volumeAttachment: body });
    expect((await put({ volumeId: vol.id, delete_on_termination: true, tag: 'keep', device: '/dev/vdb' })).status).toBe(202);
    expect((await attachments(s.id, '2.79')).body.volumeAttachments[1].delete_on_termination).toBe(true);
    expect((await put({ volumeId: vol.id, tag: 'other' })).body).toEqual({
      badRequest: { code: 400, message: 'The tag property is not mutable' },
    });
    expect((await put({ volumeId: vol.id, device: '/dev/vdc' })).body.badRequest.message).toBe('The device property is not mutable');
    const unknown = randomUUID();
    const notMapped = await nova
      .api()
      .put(v21(`/servers/${s.id}/os-volume_attachments/${unknown}`))
      .set(novaHeaders('2.85'))
      .send({ volumeAttachment: { volumeId: unknown } });
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
    expect(active.body).toEqual({
      conflictingRequest: {
        code: 409,
        message: `Cannot detach the root device volume of instance ${s.id} while it is in vm_state active; stop it first`,
      },
    });
    await nova.action(s.id, 'os-stop');
    expect((await nova.detach(s.id, root)).status).toBe(202);
    const vol = await nova.waitVolume(root, 'available');
    expect(vol.bootable).toBe('false');
    expect(fs.existsSync(path.join(dir(), `volume-${root}`))).toBe(true);
    expect((await nova.show(s.id))['os-extended-volumes:volumes_attached']).toEqual([]);
    const start = await nova.action(s.id, 'os-start');
    expect(start.body).toEqual({
      conflictingRequest: { code: 409, message: `Cannot 'start' instance ${s.id}: it has no root volume; attach one while it is stopped` },
    });
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
    const image = await nova.boot({ imageRef: await anImage(cairn.url) });
    await nova.action(image.id, 'os-stop');
    const v1 = await nova.volume();
    expect((await nova.attach(image.id, { volumeId: v1.id })).body.volumeAttachment.device).toBe('/dev/vdb');
    expect((await nova.action(image.id, 'os-start')).status).toBe(202);
  });
});

describe("OSSA-2023-003: a server's attachment is the compute API's to remove", () => {
  const volumeAction = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    nova
      .api()
      .post(v3(`/volumes/${id}/action`))
      .set({ ...VOLUME_HEADERS, ...headers })
      .send(body);
  const conflictFor = (serverId: string) => ({
    conflictingRequest: {
      code: 409,
      message: `ConflictNovaUsingAttachment: Detach volume from instance ${serverId} using the Compute API`,
    },
  });

  it("a user's DELETE /attachments/{id}, os-detach and os-terminate_connection → 409 (Cinder's body); the attachment survives; Nova's detach still works", async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    expect((await nova.attach(s.id, { volumeId: vol.id })).status).toBe(200);
    const attId = (await nova.cinderVolume(vol.id)).attachments[0].attachment_id;

    const del = await nova
      .api()
      .delete(v3(`/attachments/${attId}`))
      .set(VOLUME_HEADERS);
    expect(del.status).toBe(409);
    expect(del.body).toEqual(conflictFor(s.id));
    expect((await volumeAction(vol.id, { 'os-detach': { attachment_id: attId } })).body).toEqual(conflictFor(s.id));
    expect((await volumeAction(vol.id, { 'os-terminate_connection': { connector: { host: 'h' } } })).body).toEqual(conflictFor(s.id));

    const att = await nova
      .api()
      .get(v3(`/attachments/${attId}`))
      .set(VOLUME_HEADERS);
    expect(att.body.attachment).toMatchObject({ id: attId, status: 'attached', instance: s.id });
    expect((await nova.cinderVolume(vol.id)).status).toBe('in-use');
    expect(fs.existsSync(path.join(dir(), s.id, `volume-${vol.id}`))).toBe(true);
    expect((await attachments(s.id, '2.89')).body.volumeAttachments.map((a: any) => a.volumeId)).toContain(vol.id);

    expect((await nova.detach(s.id, vol.id)).status).toBe(202);
    await nova.waitVolume(vol.id, 'available');
    expect(fs.existsSync(path.join(dir(), `volume-${vol.id}`))).toBe(true);
  });

  it("a service token (X-Service-Roles: service) may delete it; a server's attachment that never connected stays the user's to delete", async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume();
    await nova.attach(s.id, { volumeId: vol.id });
    const attId = (await nova.cinderVolume(vol.id)).attachments[0].attachment_id;
    const asService = await nova
      .api()
      .delete(v3(`/attachments/${attId}`))
      .set({ ...VOLUME_HEADERS, 'X-Service-Roles': 'reader,service' });
    expect(asService.status).toBe(200);
    await nova.waitVolume(vol.id, 'available');

    // Reserved for the server by a user, never connected (no connection_info): Cinder lets the user take it back.
    const other = await nova.volume();
    const reserved = await nova
      .api()
      .post(v3('/attachments'))
      .set(VOLUME_HEADERS)
      .send({ attachment: { volume_uuid: other.id, instance_uuid: s.id } });
    expect(reserved.status).toBe(200);
    expect(
      (
        await nova
          .api()
          .delete(v3(`/attachments/${reserved.body.attachment.id}`))
          .set(VOLUME_HEADERS)
      ).status,
    ).toBe(200);
    expect((await nova.cinderVolume(other.id)).status).toBe('available');
  });
});

describe('OSSA-2023-003 with Keystone: a member is refused, a valid X-Service-Token with the service role is not', () => {
  const P = 'ccccccccccccccccccccccccccccccc3';
  let ks: FakeKeystone;
  let kc: TestCairn;
  beforeAll(async () => {
    ks = await FakeKeystone.start();
    kc = await startTestCairn(ks.env());
  });
  afterAll(async () => {
    await kc?.stop();
    await ks?.stop();
  });

  it("409 for the member alone; 401 with an unknown service token; 200 with the service token (Nova's own call); a member may not swap (403)", async () => {
    const member = ks.issue({ userId: 'm3', projectId: P, roles: ['member', 'reader'] });
    const novaService = ks.issue({ userId: 'nova', projectId: 'service', roles: ['service', 'admin'] });
    const c = computeApi(kc.url);
    const as = (extra: Record<string, string> = {}) => ({ 'X-Auth-Token': member, ...extra });
    const api = () => c.api();
    const boot = await api()
      .post(`/v2.1/${P}/servers`)
      .set({ ...as(), 'OpenStack-API-Version': 'compute 2.89' })
      .send({ server: { name: 's', flavorRef: '1', networks: 'none', imageRef: '', block_device_mapping_v2: [blankRoot()] } });
    expect(boot.status).toBe(202);
    const sid = boot.body.server.id;
    await waitFor(async () => (await api().get(`/v2.1/${P}/servers/${sid}`).set(as())).body.server?.status === 'ACTIVE', 20_000, 'ACTIVE');
    const created = await api()
      .post(`/v3/${P}/volumes`)
      .set({ ...as(), ...{ 'OpenStack-API-Version': 'volume 3.70' } })
      .send({ volume: { size: 1 } });
    const vid = created.body.volume.id;
    await waitFor(
      async () => (await api().get(`/v3/${P}/volumes/${vid}`).set(as())).body.volume.status === 'available',
      10_000,
      'available',
    );
    expect(
      (
        await api()
          .post(`/v2.1/${P}/servers/${sid}/os-volume_attachments`)
          .set(as())
          .send({ volumeAttachment: { volumeId: vid } })
      ).status,
    ).toBe(200);
    const attId = (await api().get(`/v3/${P}/volumes/${vid}`).set(as())).body.volume.attachments[0].attachment_id;
    const mv = { 'OpenStack-API-Version': 'volume 3.70' };
    // Swapping is admin-only (Nova's default policy), and checked before anything else.
    const swap = await api()
      .put(`/v2.1/${P}/servers/${sid}/os-volume_attachments/${vid}`)
      .set({ ...as(), 'OpenStack-API-Version': 'compute 2.89' })
      .send({ volumeAttachment: { volumeId: randomUUID() } });
    expect(swap.body).toEqual({
      forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed." },
    });

    const refused = await api().delete(`/v3/${P}/attachments/${attId}`).set(as(mv));
    expect(refused.body).toEqual({
      conflictingRequest: { code: 409, message: `ConflictNovaUsingAttachment: Detach volume from instance ${sid} using the Compute API` },
    });
    // keystonemiddleware takes X-Service-Roles only from a validated service token: a forged header changes nothing.
    expect(
      (
        await api()
          .delete(`/v3/${P}/attachments/${attId}`)
          .set(as({ ...mv, 'X-Service-Roles': 'service' }))
      ).status,
    ).toBe(409);
    expect(
      (
        await api()
          .delete(`/v3/${P}/attachments/${attId}`)
          .set(as({ ...mv, 'X-Service-Token': 'gAAAAbogus' }))
      ).status,
    ).toBe(401);
    expect(
      (
        await api()
          .delete(`/v3/${P}/attachments/${attId}`)
          .set(as({ ...mv, 'X-Service-Token': novaService }))
      ).status,
    ).toBe(200);
  });
});

describe('an attach whose API process died is undone by the sweep (serverOps.ts repairAttaches)', () => {
  let short: TestCairn;
  let c: ReturnType<typeof computeApi>;
  beforeAll(async () => {
    // A one-second lease: the sweep runs every 250 ms and treats a mapping untouched for 2 s as abandoned.
    short = await startTestCairn({ CAIRN_TASK_LEASE_SECONDS: '1' });
    await liftQuotas(short.url);
    c = computeApi(short.url);
  });
  afterAll(async () => {
    await short?.stop();
  });

  /** What the attach's first transaction leaves when its process dies right after: a mapping nobody drives, 10 s old. */
  async function abandonedMapping(serverId: string, volumeId: string, attachmentId: string, device: string) {
    const old = new Date(Date.now() - 10_000);
    await serversDb.insertBdm(short.db, {
      id: randomUUID(),
      server_id: serverId,
      project_id: (await c.show(serverId)).tenant_id,
      boot_index: null,
      device_name: device,
      source_type: 'volume',
      destination_type: 'volume',
      volume_id: volumeId,
      snapshot_id: null,
      image_id: null,
      volume_size: 1,
      volume_type: null,
      delete_on_termination: false,
      tag: null,
      attachment_id: attachmentId,
      created_at: old,
      updated_at: null,
    });
  }

  it('reserved (died before connecting) and connected but never completed (died while waiting): both end available and unmapped; a finished attach stays', async () => {
    const s = await c.boot(bfv());
    const kept = await c.volume();
    expect((await c.attach(s.id, { volumeId: kept.id })).status).toBe(200);
    const reservedVol = await c.volume();
    const connectedVol = await c.volume();
    const api = () => c.api();
    const reserved = await api()
      .post(v3('/attachments'))
      .set(VOLUME_HEADERS)
      .send({ attachment: { volume_uuid: reservedVol.id, instance_uuid: s.id } });
    const connected = await api()
      .post(v3('/attachments'))
      .set(VOLUME_HEADERS)
      .send({ attachment: { volume_uuid: connectedVol.id, instance_uuid: s.id, connector: { host: 'testhost', mountpoint: '/dev/vdd' } } });
    expect(connected.body.attachment.status).toBe('attaching');
    const sdir = path.join(short.dataDir, 'volumes', 'file');
    expect(fs.existsSync(path.join(sdir, s.id, `volume-${connectedVol.id}`))).toBe(true);
    await abandonedMapping(s.id, reservedVol.id, reserved.body.attachment.id, '/dev/vdc');
    await abandonedMapping(s.id, connectedVol.id, connected.body.attachment.id, '/dev/vdd');

    await waitFor(
      async () => {
        const [r, k] = await Promise.all([c.cinderVolume(reservedVol.id), c.cinderVolume(connectedVol.id)]);
        return r?.status === 'available' && k?.status === 'available';
      },
      15_000,
      'the abandoned attaches to be undone',
    );
    const left = (
      await api()
        .get(v21(`/servers/${s.id}/os-volume_attachments`))
        .set(novaHeaders())
    ).body.volumeAttachments;
    expect(left.map((a: any) => a.volumeId).sort()).toEqual([s['os-extended-volumes:volumes_attached'][0].id, kept.id].sort());
    expect(
      (
        await api()
          .get(v3(`/attachments?volume_id=${connectedVol.id}`))
          .set(VOLUME_HEADERS)
      ).body.attachments,
    ).toEqual([]);
    expect(fs.existsSync(path.join(sdir, `volume-${connectedVol.id}`))).toBe(true);
    expect((await c.cinderVolume(kept.id)).status).toBe('in-use');
  });
});
