import request from 'supertest';
import fs from 'node:fs';
import { PROJECT, TOKEN, liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

let cairn: TestCairn;
// Backend "broken" cannot make its storage directory: every create there fails for good.
beforeAll(async () => {
  cairn = await startTestCairn({ CAIRN_BACKENDS: 'file,broken', CAIRN_BACKEND_BROKEN_DIR: '/dev/null/broken' });
  await liftQuotas(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const api = () => request(cairn.url);
const v3 = (p: string) => `/v3/${PROJECT}${p}`;
const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };

async function createAvailable(body: Record<string, unknown> = {}): Promise<any> {
  const res = await api()
    .post(v3('/volumes'))
    .set(MV)
    .send({ volume: { size: 1, ...body } });
  expect(res.status).toBe(202);
  return waitFor(
    async () => {
      const s = await api()
        .get(v3(`/volumes/${res.body.volume.id}`))
        .set(MV);
      return s.body.volume.status === 'available' && s.body.volume;
    },
    10_000,
    'volume available',
  );
}

describe('volumes', () => {
  it('create answers 202 creating, then the worker makes it available with a sparse file on disk', async () => {
    const res = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 2, name: 'v1', metadata: { a: 'b' } } });
    expect(res.status).toBe(202);
    expect(res.body.volume).toMatchObject({
      status: 'creating',
      size: 2,
      name: 'v1',
      metadata: { a: 'b' },
      bootable: 'false',
      volume_type: '__DEFAULT__',
    });
    expect(res.headers['openstack-api-version']).toBe('volume 3.70');
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
    const vol = await waitFor(async () => {
      const s = await api()
        .get(v3(`/volumes/${res.body.volume.id}`))
        .set(MV);
      return s.body.volume.status === 'available' && s.body.volume;
    });
    const file = `${cairn.dataDir}/volumes/file/volume-${vol.id}`;
    expect(fs.statSync(file).size).toBe(2 * 1024 ** 3);
    expect(vol['os-vol-host-attr:host']).toBe('testhost@file#file');
  });

  it('delete answers 202 and removes the row and the file', async () => {
    const vol = await createAvailable();
    const file = `${cairn.dataDir}/volumes/file/volume-${vol.id}`;
    expect(fs.existsSync(file)).toBe(true);
    const del = await api()
      .delete(v3(`/volumes/${vol.id}`))
      .set(MV);
    expect(del.status).toBe(202);
    await waitFor(
      async () =>
        (
          await api()
            .get(v3(`/volumes/${vol.id}`))
            .set(MV)
        ).status === 404,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a create the driver refuses for good ends in error, with a user message recorded', async () => {
    await api()
      .post(v3('/types'))
      .set(MV)
      .send({ volume_type: { name: 'on-broken', extra_specs: { volume_backend_name: 'broken' } } });
    const res = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, volume_type: 'on-broken' } });
    expect(res.status).toBe(202);
    await waitFor(
      async () =>
        (
          await api()
            .get(v3(`/volumes/${res.body.volume.id}`))
            .set(MV)
        ).body.volume.status === 'error',
    );
    const messages = await cairn.db('messages').where({ resource_uuid: res.body.volume.id });
    expect(messages).toHaveLength(1);
    expect(messages[0].user_message).toBe('create volume from backend storage:The storage backend failed to complete the operation.');
    expect(messages[0].user_message).not.toMatch(/\/|ENOTDIR/); // no path, no tool output: those are the task's
    expect((await cairn.db('tasks').where({ resource_id: res.body.volume.id }).first()).last_error).toMatch(/create .* failed: ENOTDIR/);
  });

  it('an unknown action → 400 naming it', async () => {
    const vol = await createAvailable();
    const res = await api()
      .post(v3(`/volumes/${vol.id}/action`))
      .set(MV)
      .send({ 'os-bogus': {} });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(
      'There is no such action: os-bogus. Verify the request body and Content-Type header and try again.',
    );
  });

  it('size 0 → 400 with the jsonschema message Cinder gives', async () => {
    const res = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 0 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      badRequest: { code: 400, message: 'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1' },
    });
  });

  it('unknown volume → 404 itemNotFound, non-uuid too', async () => {
    for (const id of ['53fce896-4deb-4115-8c06-063316a7e2ca', 'not-a-uuid']) {
      const res = await api()
        .get(v3(`/volumes/${id}`))
        .set(MV);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ itemNotFound: { code: 404, message: `Volume ${id} could not be found.` } });
    }
  });

  it("lists show only the caller's project unless an admin asks for all_tenants", async () => {
    const vol = await createAvailable();
    const other = 'ffffffffffffffffffffffffffffffff';
    const asOther = { ...MV, 'X-Auth-Token': `u2:${other}` };
    expect((await api().get(`/v3/${other}/volumes`).set(asOther)).body.volumes).toEqual([]);
    const all = await api().get(`/v3/${other}/volumes?all_tenants=1`).set(asOther);
    expect(all.body.volumes.map((v: any) => v.id)).toContain(vol.id);
  });

  it("a project id in the URL that is not the caller's → 400 Malformed request url", async () => {
    const res = await api().get('/v3/ffffffffffffffffffffffffffffffff/volumes').set(MV);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('keyset pagination walks every volume once, following volumes_links', async () => {
    for (let i = 0; i < 5; i++)
      await api()
        .post(v3('/volumes'))
        .set(MV)
        .send({ volume: { size: 1, name: `page-${i}` } });
    const all = (await api().get(v3('/volumes')).set(MV)).body.volumes.map((v: any) => v.id);
    const seen: string[] = [];
    let url: string | undefined = v3('/volumes/detail?limit=2');
    while (url) {
      const res: request.Response = await api().get(url).set(MV);
      expect(res.status).toBe(200);
      seen.push(...res.body.volumes.map((v: any) => v.id));
      url = res.body.volumes_links?.[0]?.href.replace(cairn.url, '');
    }
    expect(seen).toEqual(all);
  });

  it('filters by metadata sent as a Python dict literal', async () => {
    const vol = await createAvailable({ metadata: { colour: 'teal' } });
    const res = await api()
      .get(v3(`/volumes?metadata=${encodeURIComponent("{'colour': 'teal'}")}`))
      .set(MV);
    expect(res.body.volumes.map((v: any) => v.id)).toEqual([vol.id]);
  });

  it('unknown filter → 400 from 3.31, ignored before', async () => {
    expect((await api().get(v3('/volumes?bogus=1')).set(MV)).status).toBe(400);
    expect(
      (
        await api()
          .get(v3('/volumes?bogus=1'))
          .set({ ...MV, 'OpenStack-API-Version': 'volume 3.30' })
      ).status,
    ).toBe(200);
  });

  it('metadata endpoints merge, replace, show and delete', async () => {
    const vol = await createAvailable({ metadata: { a: '1' } });
    const md = v3(`/volumes/${vol.id}/metadata`);
    expect(
      (
        await api()
          .post(md)
          .set(MV)
          .send({ metadata: { b: '2' } })
      ).body,
    ).toEqual({ metadata: { a: '1', b: '2' } });
    expect(
      (
        await api()
          .put(md)
          .set(MV)
          .send({ metadata: { c: '3' } })
      ).body,
    ).toEqual({ metadata: { c: '3' } });
    expect((await api().get(`${md}/c`).set(MV)).body).toEqual({ meta: { c: '3' } });
    expect(
      (
        await api()
          .put(`${md}/c`)
          .set(MV)
          .send({ meta: { c: '4' } })
      ).body,
    ).toEqual({ meta: { c: '4' } });
    expect((await api().delete(`${md}/c`).set(MV)).status).toBe(200);
    expect((await api().get(`${md}/c`).set(MV)).status).toBe(404);
  });

  it('summary (3.12) counts and sums; 404 below 3.12', async () => {
    const res = await api().get(v3('/volumes/summary')).set(MV);
    expect(res.status).toBe(200);
    expect(res.body['volume-summary'].total_count).toBeGreaterThan(0);
    expect(
      (
        await api()
          .get(v3('/volumes/summary'))
          .set({ ...MV, 'OpenStack-API-Version': 'volume 3.11' })
      ).status,
    ).toBe(404);
  });

  it('summary (3.36) lists each metadata key with its distinct values, a key named like an Object member too', async () => {
    await createAvailable({ metadata: { 'summary-tier': 'gold', ['__proto__']: 'p' } });
    await createAvailable({ metadata: { 'summary-tier': 'silver' } });
    await createAvailable({ metadata: { 'summary-tier': 'gold' } });
    const { metadata } = (await api().get(v3('/volumes/summary')).set(MV)).body['volume-summary'];
    expect([...metadata['summary-tier']].sort()).toEqual(['gold', 'silver']);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value).toEqual(['p']);
  });
});
