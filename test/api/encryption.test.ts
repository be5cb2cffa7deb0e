/**
 * Volume type encryption specs (admin): create, show, item, update, delete,
 * with Cinder's refusals; and since cairn has no key manager, no volume may
 * be of an encrypted type (create and retype refuse it).
 */
import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import { waitFor } from '../helpers/cairn';
import { personas } from '../helpers/personas';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa51';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb52';
const team = personas({
  admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
  member: { user: 'm2', project: P2, roles: ['member', 'reader'] },
});
const call = team.call;
const fault = (res: request.Response) => ({ status: res.status, body: res.body });
const SPECS = { provider: 'LuksEncryptor', key_size: 256, cipher: 'aes-xts-plain64', control_location: 'front-end' };
const newType = async () =>
  (await call('admin', 'post', '/types', { volume_type: { name: `t-${randomUUID().slice(0, 8)}` } })).body.volume_type.id;

describe('types/{id}/encryption', () => {
  it("create (200), show, item, update and delete (202) as tempest's test_volume_type_encryption_create_get_update_delete", async () => {
    const t = await newType();
    expect((await call('admin', 'get', `/types/${t}/encryption`)).body).toEqual({});
    const created = await call('admin', 'post', `/types/${t}/encryption`, { encryption: SPECS });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ encryption: { ...SPECS, volume_type_id: t, encryption_id: expect.any(String) } });
    const shown = (await call('admin', 'get', `/types/${t}/encryption`)).body;
    expect(Object.keys(shown).sort()).toEqual([
      'cipher',
      'control_location',
      'created_at',
      'deleted',
      'deleted_at',
      'encryption_id',
      'key_size',
      'provider',
      'updated_at',
      'volume_type_id',
    ]);
    expect(shown).toMatchObject({ ...SPECS, deleted: false, deleted_at: null, encryption_id: created.body.encryption.encryption_id });
    const update = { key_size: 128, provider: 'SomeProvider', cipher: 'aes-xts-plain64', control_location: 'back-end' };
    const updated = await call('admin', 'put', `/types/${t}/encryption/provider`, { encryption: update });
    expect({ status: updated.status, body: updated.body }).toEqual({ status: 200, body: { encryption: update } });
    expect((await call('admin', 'get', `/types/${t}/encryption`)).body).toMatchObject(update);
    expect((await call('admin', 'get', `/types/${t}/encryption/cipher`)).body).toEqual({ cipher: 'aes-xts-plain64' });
    expect((await call('admin', 'get', `/types/${t}/encryption/bogus`)).status).toBe(404);
    expect((await call('admin', 'delete', `/types/${t}/encryption/provider`)).status).toBe(202);
    expect((await call('admin', 'get', `/types/${t}/encryption`)).body).toEqual({});
    expect(fault(await call('admin', 'delete', `/types/${t}/encryption/provider`))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Volume type encryption for type ${t} does not exist.` } },
    });
  });

  it('refuses specs twice, a bad control_location or key_size, an unknown type; a member may not', async () => {
    const t = await newType();
    expect((await call('admin', 'post', `/types/${t}/encryption`, { encryption: SPECS })).status).toBe(200);
    expect(fault(await call('admin', 'post', `/types/${t}/encryption`, { encryption: SPECS }))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: `Volume type encryption for type ${t} already exists.` } },
    });
    const t2 = await newType();
    expect((await call('admin', 'post', `/types/${t2}/encryption`, { encryption: { ...SPECS, control_location: 'middle' } })).status).toBe(
      400,
    );
    expect((await call('admin', 'post', `/types/${t2}/encryption`, { encryption: { ...SPECS, key_size: -1 } })).status).toBe(400);
    expect((await call('admin', 'post', `/types/${t2}/encryption`, { encryption: { cipher: 'x' } })).status).toBe(400);
    const missing = randomUUID();
    expect(fault(await call('admin', 'post', `/types/${missing}/encryption`, { encryption: SPECS }))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Volume type ${missing} could not be found.` } },
    });
    expect((await call('admin', 'put', `/types/${t2}/encryption/x`, { encryption: { key_size: 128 } })).status).toBe(404);
    expect((await call('member', 'get', `/types/${t}/encryption`)).status).toBe(403);
    expect((await call('member', 'post', `/types/${t2}/encryption`, { encryption: SPECS })).status).toBe(403);
  });

  it('no key manager: a volume of an encrypted type is refused, and no volume is retyped to one', async () => {
    const t = await newType();
    expect((await call('admin', 'post', `/types/${t}/encryption`, { encryption: SPECS })).status).toBe(200);
    const res = await call('admin', 'post', '/volumes', { volume: { size: 1, volume_type: t } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/^Key manager error/);
    const v = await call('admin', 'post', '/volumes', { volume: { size: 1 } });
    await waitFor(async () => (await call('admin', 'get', `/volumes/${v.body.volume.id}`)).body.volume.status === 'available', 30_000);
    const retype = await call('admin', 'post', `/volumes/${v.body.volume.id}/action`, { 'os-retype': { new_type: t } });
    expect(fault(retype)).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Invalid input received: Retype cannot change encryption requirements.' } },
    });
  });

  it('specs may not be set, changed or removed while volumes are of the type', async () => {
    const t = await newType();
    const v = await call('admin', 'post', '/volumes', { volume: { size: 1, volume_type: t } });
    expect(v.status).toBe(202);
    expect(fault(await call('admin', 'post', `/types/${t}/encryption`, { encryption: SPECS }))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Cannot create encryption specs. Volume type in use.' } },
    });
    expect((await call('admin', 'put', `/types/${t}/encryption/provider`, { encryption: { key_size: 1 } })).body.badRequest.message).toBe(
      'Cannot update encryption specs. Volume type in use.',
    );
    expect((await call('admin', 'delete', `/types/${t}/encryption/provider`)).body.badRequest.message).toBe(
      'Cannot delete encryption specs. Volume type in use.',
    );
  });
});
