/**
 * The readonly flag (os-update_readonly_flag) shows among the volume's
 * metadata, as Cinder's add_visible_admin_metadata does (tempest's
 * test_volume_readonly_update), but not in the metadata API.
 */
import { liftQuotas, startTestCairn, type TestCairn } from '../helpers/cairn';
import { availableVolume, client, type Client } from '../helpers/snapshots';

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

describe('readonly in volume metadata', () => {
  it('show, detail list and update carry readonly "True"/"False" with the user metadata; the metadata API does not', async () => {
    const v = await availableVolume(c, { metadata: { k: 'v' } });
    expect(v.metadata).toEqual({ k: 'v' });
    for (const readonly of [true, false]) {
      expect((await c.post(`/volumes/${v.id}/action`, { 'os-update_readonly_flag': { readonly } })).status).toBe(202);
      const expected = { k: 'v', readonly: readonly ? 'True' : 'False' };
      expect((await c.get(`/volumes/${v.id}`)).body.volume.metadata).toEqual(expected);
      expect((await c.get('/volumes/detail')).body.volumes.find((x: any) => x.id === v.id).metadata).toEqual(expected);
    }
    expect((await c.put(`/volumes/${v.id}`, { volume: { name: 'renamed' } })).body.volume.metadata).toEqual({ k: 'v', readonly: 'False' });
    expect((await c.get(`/volumes/${v.id}/metadata`)).body).toEqual({ metadata: { k: 'v' } });
  });
});
