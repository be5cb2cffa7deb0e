import fs from 'node:fs';
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
const action = (id: string, body: unknown, mv = '3.70') =>
  api()
    .post(v3(`/volumes/${id}/action`))
    .set({ ...MV, 'OpenStack-API-Version': `volume ${mv}` })
    .send(body as object);
const show = async (id: string) =>
  (
    await api()
      .get(v3(`/volumes/${id}`))
      .set(MV)
  ).body.volume;
const until = (id: string, status: string) =>
  waitFor(
    async () => {
      const v = await show(id);
      return v.status === status && v;
    },
    10_000,
    status,
  );

async function volume(size = 1): Promise<any> {
  const res = await api().post(v3('/volumes')).set(MV).send({ volume: { size } });
  return until(res.body.volume.id, 'available');
}

describe('volume actions', () => {
  it('os-extend grows the file and the size; 202 with no body', async () => {
    const v = await volume(1);
    const res = await action(v.id, { 'os-extend': { new_size: 3 } });
    expect(res.status).toBe(202);
    expect(res.text).toBe('');
    const done = await until(v.id, 'available');
    expect(done.size).toBe(3);
    const row = await cairn.db('volumes').where({ id: v.id }).first();
    expect(fs.statSync(row.provider_location).size).toBe(3 * 1024 ** 3);
    expect(row.pending_size).toBeNull();
  });

  it("os-extend to a smaller or equal size → 400 with Cinder's text; a non-number → schema 400", async () => {
    const v = await volume(2);
    const res = await action(v.id, { 'os-extend': { new_size: 1 } });
    expect(res.body).toEqual({
      badRequest: {
        code: 400,
        message: 'Invalid input received: New size for extend must be greater than current size. (current: 2, extended: 1).',
      },
    });
    const bad = await action(v.id, { 'os-extend': { new_size: 'big' } });
    expect(bad.body.badRequest.message).toBe("Invalid input for field/attribute new_size. Value: big. 'big' does not match '^[0-9]+$'");
  });

  it('an in-use volume extends from 3.42 only', async () => {
    const v = await volume(1);
    await action(v.id, { 'os-reserve': {} });
    await action(v.id, { 'os-attach': { instance_uuid: '9d1a4b2c-0000-4000-8000-000000000001', mountpoint: '/dev/vdb' } });
    expect((await show(v.id)).status).toBe('in-use');
    expect((await action(v.id, { 'os-extend': { new_size: 2 } }, '3.41')).status).toBe(400);
    expect((await action(v.id, { 'os-extend': { new_size: 2 } }, '3.42')).status).toBe(202);
    const done = await until(v.id, 'in-use');
    expect(done.size).toBe(2);
  });

  it('extend is quota-charged: beyond the gigabytes quota → 413 and nothing changes', async () => {
    const v = await volume(1);
    const other = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
    await api()
      .put(v3(`/os-quota-sets/${other}`))
      .set(MV)
      .send({ quota_set: { gigabytes: 50 } });
    const res = await action(v.id, { 'os-extend': { new_size: 100000 } });
    expect(res.status).toBe(413);
    expect(res.body.overLimit.message).toMatch(
      /^VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 99999G, quota is 50G/,
    );
    expect(await show(v.id)).toMatchObject({ status: 'available', size: 1 });
    await liftQuotas(cairn.url);
  });

  it('os-set_bootable answers 200 and bootable shows as the string "true"', async () => {
    const v = await volume();
    const res = await action(v.id, { 'os-set_bootable': { bootable: true } });
    expect(res.status).toBe(200);
    expect((await show(v.id)).bootable).toBe('true');
    const listed = await api().get(v3('/volumes?bootable=true')).set(MV);
    expect(listed.body.volumes.map((x: any) => x.id)).toContain(v.id);
  });

  it('os-reset_status (admin) sets a known status; an unknown one → 400; os-force_delete removes it', async () => {
    const v = await volume();
    expect((await action(v.id, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
    expect((await show(v.id)).status).toBe('error');
    expect((await action(v.id, { 'os-reset_status': { status: 'bogus' } })).status).toBe(400);
    expect((await action(v.id, { 'os-reset_status': { status: 'in-use' } })).status).toBe(400);
    expect((await action(v.id, { 'os-force_delete': {} })).status).toBe(202);
    await waitFor(
      async () =>
        (
          await api()
            .get(v3(`/volumes/${v.id}`))
            .set(MV)
        ).status === 404,
    );
  });

  it('os-retype to another type of the same backend changes the type; same type → 400', async () => {
    const v = await volume();
    await api()
      .post(v3('/types'))
      .set(MV)
      .send({ volume_type: { name: 'silver' } });
    expect((await action(v.id, { 'os-retype': { new_type: 'silver', migration_policy: 'never' } })).status).toBe(202);
    expect((await show(v.id)).volume_type).toBe('silver');
    expect((await action(v.id, { 'os-retype': { new_type: 'silver' } })).status).toBe(400);
  });

  it('image metadata actions set, show and unset volume_image_metadata', async () => {
    const v = await volume();
    expect((await show(v.id)).volume_image_metadata).toBeUndefined();
    const set = await action(v.id, { 'os-set_image_metadata': { metadata: { image_name: 'cirros' } } });
    expect(set.body).toEqual({ metadata: { image_name: 'cirros' } });
    expect((await show(v.id)).volume_image_metadata).toEqual({ image_name: 'cirros' });
    expect((await action(v.id, { 'os-show_image_metadata': {} })).body).toEqual({ metadata: { image_name: 'cirros' } });
    expect((await action(v.id, { 'os-unset_image_metadata': { key: 'image_name' } })).status).toBe(200);
    expect((await action(v.id, { 'os-unset_image_metadata': { key: 'image_name' } })).status).toBe(404);
  });
});

describe('user messages (3.3)', () => {
  it('a failed create leaves a message that can be listed, shown and deleted', async () => {
    await api()
      .post(v3('/types'))
      .set(MV)
      .send({ volume_type: { name: 'nowhere', extra_specs: { storage_protocol: 'fc' } } });
    const v = (
      await api()
        .post(v3('/volumes'))
        .set(MV)
        .send({ volume: { size: 1, volume_type: 'nowhere' } })
    ).body.volume;
    const list = await api()
      .get(v3(`/messages?resource_uuid=${v.id}`))
      .set(MV);
    expect(list.status).toBe(200);
    expect(list.body.messages).toHaveLength(1);
    const m = list.body.messages[0];
    expect(m).toMatchObject({ resource_type: 'VOLUME', resource_uuid: v.id, message_level: 'ERROR', event_id: 'VOLUME_VOLUME_001_003' });
    expect(m.user_message).toBe('schedule allocate volume:Could not find any available weighted backend.');
    expect(
      (
        await api()
          .get(v3(`/messages/${m.id}`))
          .set(MV)
      ).body.message.id,
    ).toBe(m.id);
    expect(
      (
        await api()
          .delete(v3(`/messages/${m.id}`))
          .set(MV)
      ).status,
    ).toBe(204);
    expect(
      (
        await api()
          .get(v3(`/messages/${m.id}`))
          .set(MV)
      ).status,
    ).toBe(404);
    expect(
      (
        await api()
          .get(v3('/messages'))
          .set({ ...MV, 'OpenStack-API-Version': 'volume 3.2' })
      ).status,
    ).toBe(404);
  });
});
