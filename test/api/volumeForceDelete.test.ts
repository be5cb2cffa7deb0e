/**
 * os-force_delete (admin) on volumes in the middle of an attach: Cinder's
 * only condition is attach_status != attached (tempest's
 * test_volume_force_delete_when_volume_is_attaching).
 */
import { randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { availableVolume, client, untilStatus, type Client } from '../helpers/snapshots';

let cairn: TestCairn;
let c: Client;
beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  c = client(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const forceDelete = (id: string) => c.post(`/volumes/${id}/action`, { 'os-force_delete': {} });
const gone = (id: string) => waitFor(async () => (await c.get(`/volumes/${id}`)).status === 404, 20_000, `${id} gone`);

describe('os-force_delete during an attach', () => {
  it('a volume reset to attaching is force-deleted (202, then gone)', async () => {
    const v = await availableVolume(c);
    expect((await c.post(`/volumes/${v.id}/action`, { 'os-reset_status': { status: 'attaching' } })).status).toBe(202);
    expect((await c.delete(`/volumes/${v.id}`)).status).toBe(400);
    expect((await forceDelete(v.id)).status).toBe(202);
    await gone(v.id);
  });

  it('a volume reserved by an attachment is force-deleted with its attachment', async () => {
    const v = await availableVolume(c);
    const att = await c.post('/attachments', { attachment: { volume_uuid: v.id, instance_uuid: randomUUID() } });
    expect(att.status).toBe(200);
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('reserved');
    expect((await forceDelete(v.id)).status).toBe(202);
    await gone(v.id);
    expect((await c.get(`/attachments/${att.body.attachment.id}`)).status).toBe(404);
  });

  it('an attached volume is still refused', async () => {
    const v = await availableVolume(c);
    const att = await c.post('/attachments', {
      attachment: { volume_uuid: v.id, instance_uuid: randomUUID(), connector: { host: 'h1', initiator: 'iqn.x' } },
    });
    expect((await c.post(`/attachments/${att.body.attachment.id}/action`, { 'os-complete': {} })).status).toBe(204);
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'in-use');
    const res = await forceDelete(v.id);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/^Invalid volume: Volume status must be available or error/);
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('in-use');
  });
});
