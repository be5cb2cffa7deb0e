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
const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.0' };
const action = (id: string, body: unknown) =>
  api()
    .post(v3(`/volumes/${id}/action`))
    .set(MV)
    .send(body as object);
const show = async (id: string) =>
  (
    await api()
      .get(v3(`/volumes/${id}`))
      .set(MV)
  ).body.volume;

async function volume(): Promise<any> {
  const res = await api()
    .post(v3('/volumes'))
    .set(MV)
    .send({ volume: { size: 1 } });
  return waitFor(async () => {
    const v = await show(res.body.volume.id);
    return v.status === 'available' && v;
  });
}

describe('legacy attach actions', () => {
  it('reserve → initialize_connection → attach → begin/roll detaching → detach, with the file moving', async () => {
    const v = await volume();
    const server = randomUUID();
    const top = path.join(cairn.dataDir, 'volumes', 'file', `volume-${v.id}`);
    expect((await action(v.id, { 'os-reserve': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('attaching');
    const init = await action(v.id, { 'os-initialize_connection': { connector: { host: 'h1' } } });
    expect(init.status).toBe(200);
    expect(init.body.connection_info).toEqual({
      driver_volume_type: 'local',
      data: { device_path: top, access_mode: 'rw', qos_specs: null, encrypted: false, cacheable: false },
    });
    expect((await action(v.id, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdc', mode: 'rw' } })).status).toBe(202);
    const attached = await show(v.id);
    expect(attached.status).toBe('in-use');
    expect(attached.attachments).toEqual([expect.objectContaining({ server_id: server, device: '/dev/vdc' })]);
    expect(fs.existsSync(path.join(cairn.dataDir, 'volumes', 'file', server, `volume-${v.id}`))).toBe(true);

    expect((await action(v.id, { 'os-begin_detaching': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('detaching');
    expect((await action(v.id, { 'os-roll_detaching': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('in-use');
    await action(v.id, { 'os-begin_detaching': {} });
    expect((await action(v.id, { 'os-terminate_connection': { connector: { host: 'h1' } } })).status).toBe(202);
    expect((await action(v.id, { 'os-detach': {} })).status).toBe(202);
    const after = await show(v.id);
    expect(after.status).toBe('available');
    expect(after.attachments).toEqual([]);
    expect(fs.existsSync(top)).toBe(true);
  });

  it('os-attach of an available volume needs no os-reserve (Cinder 21): available → in-use → os-detach → available', async () => {
    const v = await volume();
    const server = randomUUID();
    expect((await action(v.id, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb' } })).status).toBe(202);
    const attached = await show(v.id);
    expect(attached.status).toBe('in-use');
    expect(attached.attachments).toEqual([expect.objectContaining({ server_id: server, device: '/dev/vdb' })]);
    // A second os-attach of a volume that is not multi-attach is refused.
    const again = await action(v.id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc' } });
    expect(again.status).toBe(400);
    expect((await action(v.id, { 'os-detach': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('available');
  });

  it('os-unreserve gives an unconnected reservation back', async () => {
    const v = await volume();
    await action(v.id, { 'os-reserve': {} });
    expect((await action(v.id, { 'os-unreserve': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('available');
  });

  it('begin_detaching of an available volume → 400', async () => {
    const v = await volume();
    const res = await action(v.id, { 'os-begin_detaching': {} });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/status must be in-use/);
  });

  it('a readonly volume attaches ro only', async () => {
    const v = await volume();
    expect((await action(v.id, { 'os-update_readonly_flag': { readonly: true } })).status).toBe(202);
    const res = await api()
      .post(v3('/attachments'))
      .set({ ...MV, 'OpenStack-API-Version': 'volume 3.54' })
      .send({ attachment: { volume_uuid: v.id, instance_uuid: randomUUID(), mode: 'rw' } });
    expect(res.status).toBe(400);
    const ro = await api()
      .post(v3('/attachments'))
      .set({ ...MV, 'OpenStack-API-Version': 'volume 3.54' })
      .send({ attachment: { volume_uuid: v.id, instance_uuid: randomUUID(), connector: { host: 'h' } } });
    expect(ro.status).toBe(200);
    expect(ro.body.attachment.connection_info.access_mode).toBe('ro');
  });

  it("os-force_detach of a volume an admin reset to error ends available, as Cinder's volume_detached", async () => {
    const v = await volume();
    await action(v.id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' } });
    const attachmentId = (await show(v.id)).attachments[0].attachment_id;
    expect((await action(v.id, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
    expect((await action(v.id, { 'os-force_detach': { attachment_id: attachmentId, connector: null } })).status).toBe(202);
    const after = await waitFor(async () => {
      const x = await show(v.id);
      return x.status !== 'error' && x;
    });
    expect(after).toMatchObject({ status: 'available', attachments: [] });
    // A later os-detach of the volume that is no longer attached is no error (Cinder: "volume not attached", 202).
    expect((await action(v.id, { 'os-detach': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('available');
  });

  it('os-force_detach (admin) detaches whatever the state', async () => {
    const v = await volume();
    const server = randomUUID();
    await action(v.id, { 'os-reserve': {} });
    await action(v.id, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb' } });
    expect((await action(v.id, { 'os-force_detach': {} })).status).toBe(202);
    expect((await show(v.id)).status).toBe('available');
  });
});
