import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { PROJECT, TOKEN, liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

let cairn: TestCairn;
beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const api = () => request(cairn.url);
const v3 = (p: string) => `/v3/${PROJECT}${p}`;
const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };
const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const connector = (host: string) => ({
  host,
  initiator: `iqn.2026-11.test:${host}`,
  mountpoint: '/dev/vdb',
  platform: 'x86_64',
  os_type: 'linux2',
  multipath: false,
});

async function volume(type?: string): Promise<any> {
  const res = await api()
    .post(v3('/volumes'))
    .set(MV)
    .send({ volume: { size: 1, ...(type ? { volume_type: type } : {}) } });
  expect(res.status).toBe(202);
  return waitFor(async () => {
    const v = (
      await api()
        .get(v3(`/volumes/${res.body.volume.id}`))
        .set(MV)
    ).body.volume;
    return v.status === 'available' && v;
  });
}
const show = async (id: string) =>
  (
    await api()
      .get(v3(`/volumes/${id}`))
      .set(MV)
  ).body.volume;
const location = async (id: string) => (await cairn.db('volumes').where({ id }).first()).provider_location as string;

async function attach(volumeId: string, server: string, mode?: 'rw' | 'ro') {
  const res = await api()
    .post(v3('/attachments'))
    .set(MV)
    .send({
      attachment: {
        volume_uuid: volumeId,
        instance_uuid: server,
        connector: connector(`host-${server.slice(0, 4)}`),
        ...(mode ? { mode } : {}),
      },
    });
  expect(res.status).toBe(200);
  expect(
    (
      await api()
        .post(v3(`/attachments/${res.body.attachment.id}/action`))
        .set(MV)
        .send({ 'os-complete': {} })
    ).status,
  ).toBe(204);
  return res.body.attachment;
}

describe('attachments API and the Ganeti file layout', () => {
  it('attach to A moves the file under A/, detach back to the top, attach to B under B/; the stored location follows', async () => {
    const v = await volume();
    const [a, b] = [randomUUID(), randomUUID()];
    const top = path.join(dir(), `volume-${v.id}`);
    expect(await location(v.id)).toBe(top);

    const att = await attach(v.id, a);
    const underA = path.join(dir(), a, `volume-${v.id}`);
    expect(att.connection_info).toMatchObject({
      driver_volume_type: 'local',
      device_path: underA,
      access_mode: 'rw',
      attachment_id: att.id,
    });
    expect(fs.existsSync(underA)).toBe(true);
    expect(fs.existsSync(top)).toBe(false);
    expect(await location(v.id)).toBe(underA);
    const inUse = await show(v.id);
    expect(inUse.status).toBe('in-use');
    expect(inUse.attachments).toEqual([
      expect.objectContaining({ attachment_id: att.id, server_id: a, device: '/dev/vdb', volume_id: v.id }),
    ]);

    const del = await api()
      .delete(v3(`/attachments/${att.id}`))
      .set(MV);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ attachments: [] });
    expect(fs.existsSync(top)).toBe(true);
    expect(await location(v.id)).toBe(top);
    expect((await show(v.id)).status).toBe('available');
    // A's folder holds nothing of the volume any more: removing it succeeds.
    fs.rmdirSync(path.join(dir(), a));

    await attach(v.id, b);
    const underB = path.join(dir(), b, `volume-${v.id}`);
    expect(fs.existsSync(underB)).toBe(true);
    expect(await location(v.id)).toBe(underB);
    expect(fs.readdirSync(dir()).filter((f) => f.includes(v.id))).toEqual([]);
  });

  it('reserve without a connector, then update with one, then complete', async () => {
    const v = await volume();
    const server = randomUUID();
    const res = await api()
      .post(v3('/attachments'))
      .set(MV)
      .send({ attachment: { volume_uuid: v.id, instance_uuid: server } });
    expect(res.body.attachment).toMatchObject({
      status: 'reserved',
      attach_mode: 'null',
      connection_info: {},
      attached_at: '',
      detached_at: '',
    });
    expect((await show(v.id)).status).toBe('reserved');
    const upd = await api()
      .put(v3(`/attachments/${res.body.attachment.id}`))
      .set(MV)
      .send({ attachment: { connector: connector('h1') } });
    expect(upd.status).toBe(200);
    expect(upd.body.attachment.connection_info.device_path).toBe(path.join(dir(), server, `volume-${v.id}`));
    expect((await show(v.id)).status).toBe('attaching');
    await api()
      .post(v3(`/attachments/${res.body.attachment.id}/action`))
      .set(MV)
      .send({ 'os-complete': {} });
    expect((await show(v.id)).status).toBe('in-use');
    const list = await api()
      .get(v3(`/attachments?volume_id=${v.id}`))
      .set(MV);
    expect(list.body.attachments).toEqual([{ id: res.body.attachment.id, status: 'attached', instance: server, volume_id: v.id }]);
  });

  it('an attached volume cannot be deleted', async () => {
    const v = await volume();
    await attach(v.id, randomUUID());
    const res = await api()
      .delete(v3(`/volumes/${v.id}`))
      .set(MV);
    expect(res.status).toBe(400);
  });

  it("a second attachment of a non-multiattach volume → 400 with Cinder's text", async () => {
    const v = await volume();
    await api()
      .post(v3('/attachments'))
      .set(MV)
      .send({ attachment: { volume_uuid: v.id, instance_uuid: randomUUID() } });
    const res = await api()
      .post(v3('/attachments'))
      .set(MV)
      .send({ attachment: { volume_uuid: v.id, instance_uuid: randomUUID() } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(
      `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is reserved.`,
    );
  });

  it('of 50 simultaneous attachment-creates on a non-multiattach volume exactly one wins', async () => {
    const v = await volume();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        api()
          .post(v3('/attachments'))
          .set(MV)
          .send({ attachment: { volume_uuid: v.id, instance_uuid: randomUUID() } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(49);
    expect(await cairn.db('volume_attachments').where({ volume_id: v.id })).toHaveLength(1);
  });

  it('multi-attach: rw to two servers and ro to a third; the file stays at the top level', async () => {
    const type = await api()
      .post(v3('/types'))
      .set(MV)
      .send({ volume_type: { name: `ma-${randomUUID().slice(0, 6)}`, extra_specs: { multiattach: '<is> True' } } });
    const v = await volume(type.body.volume_type.name);
    expect(v.multiattach).toBe(true);
    const servers = [randomUUID(), randomUUID(), randomUUID()];
    const atts = [await attach(v.id, servers[0]!, 'rw'), await attach(v.id, servers[1]!, 'rw'), await attach(v.id, servers[2]!, 'ro')];
    expect(atts.map((a) => a.connection_info.access_mode)).toEqual(['rw', 'rw', 'ro']);
    const top = path.join(dir(), `volume-${v.id}`);
    expect(atts.every((a) => a.connection_info.device_path === top)).toBe(true);
    expect(fs.existsSync(top)).toBe(true);
    const shown = await show(v.id);
    expect(shown.status).toBe('in-use');
    expect(shown.attachments.map((a: any) => a.server_id).sort()).toEqual([...servers].sort());
    const detail = await api()
      .get(v3(`/attachments/detail?volume_id=${v.id}`))
      .set(MV);
    expect(detail.body.attachments.map((a: any) => a.attach_mode).sort()).toEqual(['ro', 'rw', 'rw']);
    // Detaching one keeps the volume in use for the others.
    const rest = await api()
      .delete(v3(`/attachments/${atts[0].id}`))
      .set(MV);
    expect(rest.body.attachments).toHaveLength(2);
    expect((await show(v.id)).status).toBe('in-use');
  });

  it('attachments need 3.27; os-complete 3.44', async () => {
    const old = await api()
      .get(v3('/attachments'))
      .set({ ...MV, 'OpenStack-API-Version': 'volume 3.26' });
    expect(old.status).toBe(404);
    expect(old.body).toEqual({ itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  });

  it('a volume_uuid that is not a UUID → 400 from the schema', async () => {
    const res = await api()
      .post(v3('/attachments'))
      .set(MV)
      .send({ attachment: { volume_uuid: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe("Invalid input for field/attribute volume_uuid. Value: nope. 'nope' is not a 'uuid'");
  });

  it("an unknown attachment → 404 with Cinder's text", async () => {
    const id = randomUUID();
    const res = await api()
      .get(v3(`/attachments/${id}`))
      .set(MV);
    expect(res.body).toEqual({
      itemNotFound: { code: 404, message: `Volume attachment could not be found with filter: attachment_id = ${id}.` },
    });
  });
});
