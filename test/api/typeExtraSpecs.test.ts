/**
 * `GET /types/{id}/extra_specs[/{key}]` with Keystone roles: Cinder's
 * `types_extra_specs:read_sensitive` (admin) sees every key; a member and a
 * reader see only the user-visible keys, and any other key is a 404, as
 * absent as a key the type does not have.
 */
import { personas } from '../helpers/personas';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa41';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb42';
const team = personas(
  {
    admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
    member: { user: 'm2', project: P2, roles: ['member', 'reader'] },
    reader: { user: 'r2', project: P2, roles: ['reader'] },
  },
  { mv: '3.70' },
);

const VISIBLE = { multiattach: '<is> True', replication_enabled: '<is> False', 'RESKEY:availability_zones': 'nova' };

let typeId: string;
beforeAll(async () => {
  const res = await team.call('admin', 'post', '/types', {
    volume_type: { name: 'sensitive', extra_specs: { volume_backend_name: 'file' } },
  });
  expect(res.status).toBe(200);
  typeId = res.body.volume_type.id;
  // Set through the specs route too (the extstorage key is only checked when a provider is configured: here none is).
  const set = await team.call('admin', 'post', `/types/${typeId}/extra_specs`, {
    extra_specs: {
      multiattach: '<is> True',
      replication_enabled: '<is> False',
      'RESKEY:availability_zones': 'nova',
      'capabilities:secret': 'x',
    },
  });
  expect(set.status).toBe(200);
});

describe('volume type extra specs by role', () => {
  it('an admin lists and shows every key', async () => {
    const list = await team.call('admin', 'get', `/types/${typeId}/extra_specs`);
    expect(list.status).toBe(200);
    expect(list.body.extra_specs).toEqual(expect.objectContaining({ volume_backend_name: 'file', 'capabilities:secret': 'x', ...VISIBLE }));
    const one = await team.call('admin', 'get', `/types/${typeId}/extra_specs/volume_backend_name`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ volume_backend_name: 'file' });
  });

  it.each(['member', 'reader'] as const)('a %s lists only the user-visible keys and gets 404 for the others', async (who) => {
    const list = await team.call(who, 'get', `/types/${typeId}/extra_specs`);
    expect(list.status).toBe(200);
    expect(list.body.extra_specs).toEqual(VISIBLE);
    for (const key of Object.keys(VISIBLE)) {
      const one = await team.call(who, 'get', `/types/${typeId}/extra_specs/${encodeURIComponent(key)}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual({ [key]: VISIBLE[key as keyof typeof VISIBLE] });
    }
    for (const key of ['volume_backend_name', 'capabilities:secret', 'no-such-key', 'constructor']) {
      const one = await team.call(who, 'get', `/types/${typeId}/extra_specs/${encodeURIComponent(key)}`);
      expect(one.status).toBe(404);
      expect(one.body).toEqual({ itemNotFound: { code: 404, message: `Volume Type ${typeId} has no extra specs with key ${key}.` } });
    }
    // The type's own show and list agree with the specs routes.
    expect((await team.call(who, 'get', `/types/${typeId}`)).body.volume_type.extra_specs).toEqual(VISIBLE);
  });
});
