/**
 * QoS specs (admin): CRUD, keys, associations with volume types, and the
 * refusals Cinder gives; a member is refused everywhere.
 */
import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import { personas } from '../helpers/personas';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa31';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb32';
const team = personas({
  admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
  member: { user: 'm2', project: P2, roles: ['member', 'reader'] },
});
const call = team.call;
const fault = (res: request.Response) => ({ status: res.status, body: res.body });
const name = () => `qos-${randomUUID().slice(0, 8)}`;

async function createQos(body: Record<string, string> = {}): Promise<any> {
  const res = await call('admin', 'post', '/qos-specs', { qos_specs: { name: name(), ...body } });
  expect(res.status).toBe(200);
  return res.body.qos_specs;
}
async function createType(): Promise<string> {
  return (await call('admin', 'post', '/types', { volume_type: { name: name() } })).body.volume_type.id;
}

describe('qos-specs', () => {
  it('create answers 200 with the specs and links; show and list agree; consumer defaults to back-end', async () => {
    const n = name();
    const res = await call('admin', 'post', '/qos-specs', { qos_specs: { name: n, consumer: 'front-end', read_iops_sec: '2000' } });
    expect(res.status).toBe(200);
    const q = res.body.qos_specs;
    expect(q).toEqual({ id: expect.any(String), name: n, consumer: 'front-end', specs: { read_iops_sec: '2000' } });
    expect(res.body.links.map((l: any) => l.rel)).toEqual(['self', 'bookmark']);
    expect(res.body.links[0].href).toBe(`${team.cairn().url}/v3/${P1}/qos-specs/${q.id}`);
    expect((await call('admin', 'get', `/qos-specs/${q.id}`)).body.qos_specs).toEqual(q);
    expect((await call('admin', 'get', '/qos-specs')).body.qos_specs).toContainEqual(q);
    expect((await call('admin', 'get', `/qos-specs?name=${n}`)).body.qos_specs).toEqual([q]);
    expect((await createQos()).consumer).toBe('back-end');
  });

  it('refuses a bad consumer, a taken name, a missing name and a bad key; 404 for unknown specs', async () => {
    const q = await createQos();
    expect(fault(await call('admin', 'post', '/qos-specs', { qos_specs: { name: name(), consumer: 'middle' } }))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: "Invalid qos specs: Valid consumer of QoS specs are: ['front-end', 'back-end', 'both']" } },
    });
    expect(fault(await call('admin', 'post', '/qos-specs', { qos_specs: { name: q.name } }))).toEqual({
      status: 409,
      body: { conflictingRequest: { code: 409, message: `QoS Specs ${q.name} already exists.` } },
    });
    expect((await call('admin', 'post', '/qos-specs', { qos_specs: { read_iops_sec: '1' } })).status).toBe(400);
    expect((await call('admin', 'post', '/qos-specs', { qos_specs: { name: name(), 'bad/key': '1' } })).status).toBe(400);
    expect((await call('admin', 'post', '/qos-specs', { qos_specs: { name: '   ' } })).body.badRequest.message).toBe(
      'Please specify a name for QoS specs.',
    );
    const id = randomUUID();
    expect(fault(await call('admin', 'get', `/qos-specs/${id}`))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `No such QoS spec ${id}.` } },
    });
  });

  it('PUT sets keys and answers with them; delete_keys removes them (202), an absent key is a 400', async () => {
    const q = await createQos({ read_iops_sec: '2000' });
    const set = await call('admin', 'put', `/qos-specs/${q.id}`, { qos_specs: { iops_bytes: '500' } });
    expect({ status: set.status, body: set.body }).toEqual({ status: 200, body: { qos_specs: { iops_bytes: '500' } } });
    expect((await call('admin', 'get', `/qos-specs/${q.id}`)).body.qos_specs.specs).toEqual({ read_iops_sec: '2000', iops_bytes: '500' });
    expect((await call('admin', 'put', `/qos-specs/${q.id}/delete_keys`, { keys: ['iops_bytes'] })).status).toBe(202);
    expect((await call('admin', 'get', `/qos-specs/${q.id}`)).body.qos_specs.specs).toEqual({ read_iops_sec: '2000' });
    expect(fault(await call('admin', 'put', `/qos-specs/${q.id}/delete_keys`, { keys: ['read_iops_sec', 'nope'] }))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: `QoS spec ${q.id} has no spec with key nope.` } },
    });
    expect((await call('admin', 'get', `/qos-specs/${q.id}`)).body.qos_specs.specs).toEqual({ read_iops_sec: '2000' });
    expect((await call('admin', 'put', `/qos-specs/${q.id}`, { qos_specs: { consumer: 'nobody' } })).status).toBe(400);
    expect((await call('admin', 'put', `/qos-specs/${q.id}`, { qos_specs: { consumer: 'both' } })).status).toBe(200);
    expect((await call('admin', 'get', `/qos-specs/${q.id}`)).body.qos_specs).toMatchObject({
      consumer: 'both',
      specs: { read_iops_sec: '2000' },
    });
  });

  it('associate, associations, disassociate and disassociate_all; the type shows its qos_specs_id', async () => {
    const q = await createQos();
    const types = [await createType(), await createType(), await createType()];
    for (const t of types) expect((await call('admin', 'get', `/qos-specs/${q.id}/associate?vol_type_id=${t}`)).status).toBe(202);
    const assoc = (await call('admin', 'get', `/qos-specs/${q.id}/associations`)).body.qos_associations;
    expect(assoc.map((a: any) => a.id).sort()).toEqual([...types].sort());
    expect(assoc[0]).toEqual({ association_type: 'volume_type', id: expect.any(String), name: expect.any(String) });
    expect((await call('admin', 'get', `/types/${types[0]}`)).body.volume_type.qos_specs_id).toBe(q.id);
    expect((await call('admin', 'get', `/qos-specs/${q.id}/disassociate?vol_type_id=${types[0]}`)).status).toBe(202);
    expect((await call('admin', 'get', `/types/${types[0]}`)).body.volume_type.qos_specs_id).toBeNull();
    expect((await call('admin', 'get', `/qos-specs/${q.id}/associations`)).body.qos_associations).toHaveLength(2);
    expect((await call('admin', 'get', `/qos-specs/${q.id}/disassociate_all`)).status).toBe(202);
    expect((await call('admin', 'get', `/qos-specs/${q.id}/associations`)).body.qos_associations).toEqual([]);
  });

  it('a type associated with other specs, a missing or unknown type id are refused as in Cinder', async () => {
    const [q1, q2] = [await createQos(), await createQos()];
    const t = await createType();
    expect((await call('admin', 'get', `/qos-specs/${q1.id}/associate?vol_type_id=${t}`)).status).toBe(202);
    expect((await call('admin', 'get', `/qos-specs/${q1.id}/associate?vol_type_id=${t}`)).status).toBe(202);
    expect(fault(await call('admin', 'get', `/qos-specs/${q2.id}/associate?vol_type_id=${t}`))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: `Invalid volume type: Type ${t} is already associated with another qos specs: ${q1.id}` } },
    });
    expect((await call('admin', 'get', `/qos-specs/${q2.id}/associate`)).body.badRequest.message).toBe('Volume Type id must not be None.');
    const missing = randomUUID();
    expect(fault(await call('admin', 'get', `/qos-specs/${q2.id}/associate?vol_type_id=${missing}`))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Volume type ${missing} could not be found.` } },
    });
    // Disassociating q2 leaves q1's association alone.
    expect((await call('admin', 'get', `/qos-specs/${q2.id}/disassociate?vol_type_id=${t}`)).status).toBe(202);
    expect((await call('admin', 'get', `/types/${t}`)).body.volume_type.qos_specs_id).toBe(q1.id);
  });

  it('delete: refused while associated, force disassociates and deletes; then 404', async () => {
    const q = await createQos();
    const t = await createType();
    await call('admin', 'get', `/qos-specs/${q.id}/associate?vol_type_id=${t}`);
    expect(fault(await call('admin', 'delete', `/qos-specs/${q.id}?force=False`))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Qos specs still in use.' } },
    });
    expect((await call('admin', 'delete', `/qos-specs/${q.id}?force=True`)).status).toBe(202);
    expect((await call('admin', 'get', `/qos-specs/${q.id}`)).status).toBe(404);
    expect((await call('admin', 'get', `/types/${t}`)).body.volume_type.qos_specs_id).toBeNull();
    const unused = await createQos();
    expect((await call('admin', 'delete', `/qos-specs/${unused.id}`)).status).toBe(202);
    expect((await call('admin', 'delete', `/qos-specs/${unused.id}`)).status).toBe(404);
  });

  it('a member may do none of it (403)', async () => {
    const q = await createQos();
    const t = await createType();
    for (const [method, p, body] of [
      ['get', '/qos-specs'],
      ['post', '/qos-specs', { qos_specs: { name: name() } }],
      ['get', `/qos-specs/${q.id}`],
      ['put', `/qos-specs/${q.id}`, { qos_specs: { a: 'b' } }],
      ['delete', `/qos-specs/${q.id}`],
      ['get', `/qos-specs/${q.id}/associate?vol_type_id=${t}`],
      ['get', `/qos-specs/${q.id}/disassociate_all`],
    ] as Array<['get' | 'post' | 'put' | 'delete', string, object?]>) {
      expect({ method, p, status: (await call('member', method, p, body)).status }).toEqual({ method, p, status: 403 });
    }
    expect((await call('admin', 'get', `/qos-specs/${q.id}/associations`)).body.qos_associations).toEqual([]);
  });
});
