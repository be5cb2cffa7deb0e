import request from 'supertest';
import { PROJECT, TOKEN, liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

let cairn: TestCairn;
beforeAll(async () => {
  cairn = await startTestCairn({ CAIRN_BACKENDS: 'file,slow' });
  await liftQuotas(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const api = () => request(cairn.url);
const v3 = (p: string) => `/v3/${PROJECT}${p}`;
const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };

async function createType(body: Record<string, unknown>) {
  const res = await api().post(v3('/types')).set(MV).send({ volume_type: body });
  expect(res.status).toBe(200);
  return res.body.volume_type;
}

async function volumeStatus(id: string) {
  return (
    await api()
      .get(v3(`/volumes/${id}`))
      .set(MV)
  ).body.volume;
}

describe('volume types', () => {
  it('the migration creates __DEFAULT__, served as /types/default', async () => {
    const res = await api().get(v3('/types/default')).set(MV);
    expect(res.status).toBe(200);
    expect(res.body.volume_type).toMatchObject({ name: '__DEFAULT__', is_public: true, description: 'Default Volume Type' });
  });

  it('create, show, update, list and delete a type; a duplicate name → 409', async () => {
    const t = await createType({ name: 'gold', description: 'fast', extra_specs: { 'sample:k': 'v' } });
    expect(t).toMatchObject({ name: 'gold', is_public: true, extra_specs: { 'sample:k': 'v' }, 'os-volume-type-access:is_public': true });
    const dup = await api()
      .post(v3('/types'))
      .set(MV)
      .send({ volume_type: { name: 'gold' } });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ conflictingRequest: { code: 409, message: 'Volume Type gold already exists.' } });
    const upd = await api()
      .put(v3(`/types/${t.id}`))
      .set(MV)
      .send({ volume_type: { description: 'faster' } });
    expect(upd.body.volume_type.description).toBe('faster');
    const names = (await api().get(v3('/types')).set(MV)).body.volume_types.map((x: any) => x.name);
    expect(names).toEqual(expect.arrayContaining(['gold', '__DEFAULT__']));
    expect(
      (
        await api()
          .delete(v3(`/types/${t.id}`))
          .set(MV)
      ).status,
    ).toBe(202);
    expect(
      (
        await api()
          .get(v3(`/types/${t.id}`))
          .set(MV)
      ).status,
    ).toBe(404);
    // A deleted type's name may be used again.
    await createType({ name: 'gold' });
  });

  it('extra specs: set, show, update one, delete; refused while volumes use the type', async () => {
    const t = await createType({ name: 'specs' });
    const base = v3(`/types/${t.id}/extra_specs`);
    expect(
      (
        await api()
          .post(base)
          .set(MV)
          .send({ extra_specs: { a: '1', b: '2' } })
      ).body,
    ).toEqual({ extra_specs: { a: '1', b: '2' } });
    expect((await api().get(`${base}/a`).set(MV)).body).toEqual({ a: '1' });
    expect((await api().put(`${base}/a`).set(MV).send({ a: '9' })).body).toEqual({ a: '9' });
    expect((await api().put(`${base}/a`).set(MV).send({ b: '9' })).status).toBe(400);
    expect((await api().delete(`${base}/b`).set(MV)).status).toBe(202);
    expect((await api().get(base).set(MV)).body).toEqual({ extra_specs: { a: '9' } });
    // Unscoped spec "a" matches no backend capability: the volume goes to error, so clear it first.
    await api().delete(`${base}/a`).set(MV);
    const vol = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, volume_type: 'specs' } });
    expect(vol.status).toBe(202);
    const refused = await api()
      .post(base)
      .set(MV)
      .send({ extra_specs: { c: '3' } });
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toBe('Volume Type is currently in use.');
    expect(
      (
        await api()
          .delete(v3(`/types/${t.id}`))
          .set(MV)
      ).status,
    ).toBe(400);
  });

  it('volume_backend_name places the volume on that backend; an unmatched spec leaves it in error with a message', async () => {
    await createType({ name: 'on-slow', extra_specs: { volume_backend_name: 'slow' } });
    const v = (
      await api()
        .post(v3('/volumes'))
        .set(MV)
        .send({ volume: { size: 1, volume_type: 'on-slow' } })
    ).body.volume;
    const done = await waitFor(async () => {
      const s = await volumeStatus(v.id);
      return s.status === 'available' && s;
    });
    expect(done['os-vol-host-attr:host']).toBe('testhost@slow#slow');

    await createType({ name: 'nowhere', extra_specs: { storage_protocol: 'fibre_channel' } });
    const bad = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, volume_type: 'nowhere' } });
    expect(bad.status).toBe(202);
    expect((await volumeStatus(bad.body.volume.id)).status).toBe('error');
  });

  it('a multiattach type makes multiattach volumes; multiattach in the body → 400', async () => {
    await createType({ name: 'shared', extra_specs: { multiattach: '<is> True' } });
    const v = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, volume_type: 'shared' } });
    expect(v.body.volume.multiattach).toBe(true);
    const refused = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, multiattach: true } });
    expect(refused.status).toBe(400);
  });

  it('private types: access list, add and remove project access', async () => {
    const t = await createType({ name: 'private', 'os-volume-type-access:is_public': false });
    expect(t.is_public).toBe(false);
    const action = v3(`/types/${t.id}/action`);
    const other = 'abcdefabcdefabcdefabcdefabcdef12';
    expect(
      (
        await api()
          .post(action)
          .set(MV)
          .send({ addProjectAccess: { project: other } })
      ).status,
    ).toBe(202);
    expect(
      (
        await api()
          .post(action)
          .set(MV)
          .send({ addProjectAccess: { project: other } })
      ).status,
    ).toBe(409);
    expect(
      (
        await api()
          .get(v3(`/types/${t.id}/os-volume-type-access`))
          .set(MV)
      ).body,
    ).toEqual({ volume_type_access: [{ volume_type_id: t.id, project_id: other }] });
    expect(
      (
        await api()
          .post(action)
          .set(MV)
          .send({ removeProjectAccess: { project: other } })
      ).status,
    ).toBe(202);
    expect(
      (
        await api()
          .post(action)
          .set(MV)
          .send({ removeProjectAccess: { project: other } })
      ).status,
    ).toBe(404);
    // Admins list private types only with is_public=None (or false).
    const listed = (q: string) =>
      api()
        .get(v3(`/types${q}`))
        .set(MV)
        .then((r) => r.body.volume_types.map((x: any) => x.name));
    expect(await listed('')).not.toContain('private');
    expect(await listed('?is_public=None')).toContain('private');
  });

  it("unknown type by name → 404 with Cinder's text", async () => {
    const res = await api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, volume_type: 'no-such-type' } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ itemNotFound: { code: 404, message: 'Volume type with name no-such-type could not be found.' } });
  });
});

describe('services and info', () => {
  it('os-services lists the API as cinder-scheduler and each backend worker as cinder-volume, up', async () => {
    const res = await api().get(v3('/os-services')).set(MV);
    const rows = res.body.services.map((s: any) => [s.binary, s.host, s.state]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['cinder-scheduler', 'testhost', 'up'],
        ['cinder-volume', 'testhost@file', 'up'],
        ['cinder-volume', 'testhost@slow', 'up'],
      ]),
    );
    const filtered = await api().get(v3('/os-services?binary=cinder-volume')).set(MV);
    expect(filtered.body.services.every((s: any) => s.binary === 'cinder-volume')).toBe(true);
  });

  it("limits show the project's quota and count its volumes", async () => {
    const res = await api().get(v3('/limits')).set(MV);
    expect(res.body.limits.absolute.totalVolumesUsed).toBeGreaterThan(0);
    expect(res.body.limits.absolute.maxTotalVolumes).toBe(-1); // lifted in beforeAll
  });
});
