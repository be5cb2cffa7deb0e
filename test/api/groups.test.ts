/**
 * Generic volume groups: group types and their specs (admin), groups with
 * volumes joining and leaving, group snapshots taken through the snapshot
 * tasks, groups from a group snapshot or another group, reset_status, the
 * `groups` quota, and the refusals Cinder gives.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type request from 'supertest';
import { waitFor } from '../helpers/cairn';
import { personas, type WhoOf } from '../helpers/personas';
import { readAt, volumeFile, writeAt } from '../helpers/snapshots';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa41';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb42';
const team = personas(
  {
    admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
    member: { user: 'm1', project: P1, roles: ['member', 'reader'] },
    other: { user: 'o2', project: P2, roles: ['member', 'reader'] },
  },
  { mv: '3.20', startTimeoutMs: 60_000 },
);

type Who = WhoOf<typeof team>;
const call = team.call;
const fault = (res: request.Response) => ({ status: res.status, body: res.body });
const name = (p = 'g') => `${p}-${randomUUID().slice(0, 8)}`;

async function groupType(extra: object = {}): Promise<any> {
  const res = await call('admin', 'post', '/group_types', { group_type: { name: name('gt'), ...extra } });
  expect(res.status).toBe(202);
  return res.body.group_type;
}
async function volumeType(): Promise<string> {
  return (await call('admin', 'post', '/types', { volume_type: { name: name('vt') } })).body.volume_type.id;
}
async function until(who: Who, p: string, key: string, status: string): Promise<any> {
  return waitFor(
    async () => {
      const res = await call(who, 'get', p);
      return res.body[key]?.status === status && res.body[key];
    },
    30_000,
    `${p} ${status}`,
  );
}
async function group(who: Who = 'member', types?: { gt: string; vt: string }): Promise<{ id: string; gt: string; vt: string }> {
  const gt = types?.gt ?? (await groupType()).id;
  const vt = types?.vt ?? (await volumeType());
  const res = await call(who, 'post', '/groups', { group: { name: name(), group_type: gt, volume_types: [vt] } });
  expect(res.status).toBe(202);
  await until(who, `/groups/${res.body.group.id}`, 'group', 'available');
  return { id: res.body.group.id, gt, vt };
}
async function memberVolume(g: { id: string; vt: string }, who: Who = 'member'): Promise<string> {
  const res = await call(who, 'post', '/volumes', { volume: { size: 1, volume_type: g.vt, group_id: g.id } });
  expect(res.status).toBe(202);
  expect(res.body.volume.group_id).toBe(g.id);
  await until(who, `/volumes/${res.body.volume.id}`, 'volume', 'available');
  return res.body.volume.id;
}
const gone = (who: Who, p: string) => waitFor(async () => (await call(who, 'get', p)).status === 404, 30_000, `${p} gone`);

describe('group types', () => {
  it('create (202) / show / update / list / delete, with specs shown to admins only', async () => {
    const n = name('gt');
    const res = await call(
      'admin',
      'post',
      '/group_types',
      { group_type: { name: n, description: 'd', is_public: true, group_specs: { consistent_group_snapshot_enabled: '<is> False' } } },
      '3.11',
    );
    expect(res.status).toBe(202);
    const t = res.body.group_type;
    expect(t).toEqual({
      id: expect.any(String),
      name: n,
      description: 'd',
      is_public: true,
      group_specs: { consistent_group_snapshot_enabled: '<is> False' },
    });
    expect((await call('admin', 'get', `/group_types/${t.id}`, undefined, '3.11')).body.group_type).toEqual(t);
    expect((await call('member', 'get', `/group_types/${t.id}`, undefined, '3.11')).body.group_type).toEqual({
      id: t.id,
      name: n,
      description: 'd',
      is_public: true,
    });
    const upd = await call('admin', 'put', `/group_types/${t.id}`, { group_type: { name: `${n}-2`, description: 'd2' } }, '3.11');
    expect({ status: upd.status, name: upd.body.group_type.name, description: upd.body.group_type.description }).toEqual({
      status: 200,
      name: `${n}-2`,
      description: 'd2',
    });
    expect((await call('admin', 'get', '/group_types', undefined, '3.11')).body.group_types.map((x: any) => x.id)).toContain(t.id);
    expect((await call('admin', 'delete', `/group_types/${t.id}`, undefined, '3.11')).status).toBe(202);
    expect((await call('admin', 'get', `/group_types/${t.id}`, undefined, '3.11')).status).toBe(404);
  });

  it('is_public filters and sort for admins; members see public types only; below 3.11 the route is a 404', async () => {
    const a = await groupType({ name: `a_${name()}`, is_public: true });
    const b = await groupType({ name: `b_${name()}`, is_public: false });
    const names = async (who: Who, q: string) => (await call(who, 'get', `/group_types${q}`)).body.group_types.map((x: any) => x.name);
    const asc = await names('admin', '?sort=name:asc&is_public=None');
    expect(asc.indexOf(a.name)).toBeLessThan(asc.indexOf(b.name));
    const desc = await names('admin', '?sort=name:desc&is_public=None');
    expect(desc.indexOf(b.name)).toBeLessThan(desc.indexOf(a.name));
    expect(await names('admin', '?is_public=false')).toEqual(expect.arrayContaining([b.name]));
    expect(await names('admin', '?is_public=false')).not.toContain(a.name);
    expect(await names('admin', '?is_public=true')).not.toContain(b.name);
    expect(await names('member', '?is_public=None')).not.toContain(b.name);
    expect((await call('member', 'get', `/group_types/${b.id}`)).status).toBe(404);
    expect((await call('admin', 'get', '/group_types', undefined, '3.10')).status).toBe(404);
  });

  it('refuses members, a taken name, and an unknown type', async () => {
    const t = await groupType();
    expect((await call('member', 'post', '/group_types', { group_type: { name: name() } })).status).toBe(403);
    expect(fault(await call('admin', 'post', '/group_types', { group_type: { name: t.name } }))).toEqual({
      status: 409,
      body: { conflictingRequest: { code: 409, message: `Group Type ${t.name} already exists.` } },
    });
    const id = randomUUID();
    expect(fault(await call('admin', 'get', `/group_types/${id}`))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Group type ${id} could not be found.` } },
    });
    expect(fault(await call('admin', 'get', '/group_types/default'))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: 'Default group type can not be found.' } },
    });
  });

  it('group specs: create/update (202), show, update one, list, delete (202), then 404', async () => {
    const t = await groupType();
    const specs = `/group_types/${t.id}/group_specs`;
    expect(fault(await call('admin', 'post', specs, { group_specs: { key1: 'value1', key2: 'value2' } }))).toEqual({
      status: 202,
      body: { group_specs: { key1: 'value1', key2: 'value2' } },
    });
    expect((await call('admin', 'post', specs, { group_specs: { key2: 'v2', key3: 'value3' } })).body).toEqual({
      group_specs: { key2: 'v2', key3: 'value3' },
    });
    expect(fault(await call('admin', 'get', `${specs}/key2`))).toEqual({ status: 200, body: { key2: 'v2' } });
    expect(fault(await call('admin', 'put', `${specs}/key3`, { key3: 'v3' }))).toEqual({ status: 200, body: { key3: 'v3' } });
    expect((await call('admin', 'put', `${specs}/key3`, { key1: 'x' })).body.badRequest.message).toBe('Request body and URI mismatch');
    expect((await call('admin', 'get', specs)).body).toEqual({ group_specs: { key1: 'value1', key2: 'v2', key3: 'v3' } });
    for (const k of ['key1', 'key2', 'key3']) {
      expect((await call('admin', 'delete', `${specs}/${k}`)).status).toBe(202);
      expect(fault(await call('admin', 'get', `${specs}/${k}`))).toEqual({
        status: 404,
        body: { itemNotFound: { code: 404, message: `Group Type ${t.id} has no extra spec with key ${k}.` } },
      });
    }
    expect((await call('member', 'get', specs)).status).toBe(403);
  });
});

describe('groups', () => {
  it('create answers 202 with id and name; show/detail per microversion; volumes join with group_id; delete with its volumes', async () => {
    const g = await group();
    const show = (await call('member', 'get', `/groups/${g.id}`, undefined, '3.13')).body.group;
    expect(Object.keys(show).sort()).toEqual([
      'availability_zone',
      'created_at',
      'description',
      'group_type',
      'id',
      'name',
      'status',
      'volume_types',
    ]);
    expect(show).toMatchObject({ status: 'available', group_type: g.gt, volume_types: [g.vt], availability_zone: 'nova' });
    const at14 = (await call('member', 'get', `/groups/${g.id}`, undefined, '3.14')).body.group;
    expect(at14).toMatchObject({ group_snapshot_id: null, source_group_id: null });
    const vol = await memberVolume(g);
    expect((await call('member', 'get', `/volumes/${vol}`, undefined, '3.13')).body.volume.group_id).toBe(g.id);
    expect('group_id' in (await call('member', 'get', `/volumes/${vol}`, undefined, '3.12')).body.volume).toBe(false);
    expect((await call('member', 'get', `/groups/${g.id}?list_volume=true`, undefined, '3.25')).body.group.volumes).toEqual([vol]);
    expect((await call('member', 'get', `/volumes/detail?group_id=${g.id}`)).body.volumes.map((v: any) => v.id)).toEqual([vol]);
    // A group's volume goes only with its group.
    expect((await call('member', 'delete', `/volumes/${vol}`)).status).toBe(400);
    expect((await call('member', 'post', `/groups/${g.id}/action`, { delete: {} })).body.badRequest.message).toBe(
      `Invalid Group: Group ${g.id} still contains volumes. The delete-volumes flag is required to delete it.`,
    );
    expect((await call('member', 'post', `/groups/${g.id}/action`, { delete: { 'delete-volumes': true } })).status).toBe(202);
    await gone('member', `/volumes/${vol}`);
    await gone('member', `/groups/${g.id}`);
    expect((await call('member', 'get', '/groups/detail')).body.groups.map((x: any) => x.id)).not.toContain(g.id);
  }, 60_000);

  it('a volume of a type the group does not take, or without a type, or in an unknown group, is refused', async () => {
    const g = await group();
    const other = await volumeType();
    expect(
      (await call('member', 'post', '/volumes', { volume: { size: 1, volume_type: other, group_id: g.id } })).body.badRequest.message,
    ).toMatch(/^Invalid input received: Invalid volume_type provided: .* \(requested type must be supported by this group\)\.$/);
    expect((await call('member', 'post', '/volumes', { volume: { size: 1, group_id: g.id } })).body.badRequest.message).toBe(
      'Invalid input received: volume_type must be provided when creating a volume in a group.',
    );
    const id = randomUUID();
    expect(fault(await call('member', 'post', '/volumes', { volume: { size: 1, volume_type: g.vt, group_id: id } }))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Group ${id} could not be found.` } },
    });
    expect((await call('other', 'post', '/volumes', { volume: { size: 1, volume_type: g.vt, group_id: g.id } })).status).toBe(404);
  });

  it('update renames and moves volumes out and back in (202); refusals name the volume', async () => {
    const g = await group();
    const [v1, v2] = [await memberVolume(g), await memberVolume(g)];
    expect(
      (await call('member', 'put', `/groups/${g.id}`, { group: { name: 'new_group', description: 'new desc', remove_volumes: v2 } }))
        .status,
    ).toBe(202);
    const shown = (await call('member', 'get', `/groups/${g.id}`)).body.group;
    expect(shown).toMatchObject({ name: 'new_group', description: 'new desc', status: 'available' });
    expect((await call('member', 'get', `/volumes/${v2}`)).body.volume.group_id).toBeNull();
    expect((await call('member', 'put', `/groups/${g.id}`, { group: { remove_volumes: v2 } })).body.badRequest.message).toBe(
      `Invalid volume: Cannot remove volume ${v2} from group ${g.id} because it is not in the group.`,
    );
    expect(
      (await call('member', 'put', `/groups/${g.id}`, { group: { add_volumes: `${v2},`, remove_volumes: v2 } })).body.badRequest.message,
    ).toBe(`Invalid volume: UUIDs ['${v2}'] are in both add and remove volume list.`);
    expect((await call('member', 'put', `/groups/${g.id}`, { group: { add_volumes: v2 } })).status).toBe(202);
    expect((await call('member', 'get', `/volumes/${v2}`)).body.volume.group_id).toBe(g.id);
    expect((await call('member', 'put', `/groups/${g.id}`, { group: { name: 'new_group' } })).body.badRequest.message).toBe(
      `Invalid Group: Cannot update group ${g.id} because no valid name, description, add_volumes, or remove_volumes were provided.`,
    );
    expect((await call('member', 'put', `/groups/${g.id}`, { group: {} })).status).toBe(400);
    const g2 = await group('member', { gt: g.gt, vt: g.vt });
    expect((await call('member', 'put', `/groups/${g2.id}`, { group: { add_volumes: v1 } })).body.badRequest.message).toBe(
      `Invalid volume: Cannot add volume ${v1} to group ${g2.id} because it is already in group ${g.id}.`,
    );
  }, 60_000);

  it('reset_status (admin, 3.20): any group snapshot status; an unknown one is refused; below 3.20 a 404', async () => {
    const g = await group();
    for (const status of ['creating', 'available', 'error']) {
      expect((await call('admin', 'post', `/groups/${g.id}/action`, { reset_status: { status } })).status).toBe(202);
      expect((await call('member', 'get', `/groups/${g.id}`)).body.group.status).toBe(status);
    }
    expect((await call('member', 'post', `/groups/${g.id}/action`, { reset_status: { status: 'available' } })).status).toBe(403);
    expect((await call('admin', 'post', `/groups/${g.id}/action`, { reset_status: { status: 'in-use' } })).body.badRequest.message).toBe(
      "Invalid Group Status: Group status: in-use is invalid, valid status are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting').",
    );
    expect((await call('admin', 'post', `/groups/${g.id}/action`, { reset_status: { status: 'available' } }, '3.19')).status).toBe(404);
  });

  it("the groups quota (default 10) counts groups; over it is Cinder's 413", async () => {
    const g = await group();
    expect((await call('admin', 'put', `/os-quota-sets/${P1}`, { quota_set: { groups: 1 } })).status).toBe(400); // below usage
    const used = (await call('member', 'get', `/os-quota-sets/${P1}?usage=True`)).body.quota_set.groups;
    expect(used.in_use).toBeGreaterThanOrEqual(1);
    expect((await call('admin', 'put', `/os-quota-sets/${P1}`, { quota_set: { groups: used.in_use } })).status).toBe(200);
    const res = await call('member', 'post', '/groups', { group: { group_type: g.gt, volume_types: [g.vt] } });
    expect(fault(res)).toEqual({
      status: 413,
      body: {
        overLimit: {
          code: 413,
          message: `GroupLimitExceeded: Maximum number of groups allowed (${used.in_use}) exceeded`,
          retryAfter: '0',
        },
      },
    });
    expect((await call('admin', 'put', `/os-quota-sets/${P1}`, { quota_set: { groups: -1 } })).status).toBe(200);
  });
});

describe('group snapshots and groups from sources', () => {
  it('a group snapshot snapshots every member (data copied), shows per version, and its delete removes the member snapshots', async () => {
    const g = await group();
    const vol = await memberVolume(g);
    const file = await volumeFile(team.cairn().db as any, vol);
    writeAt(file, 4096, 'group-data');
    const res = await call('member', 'post', '/group_snapshots', { group_snapshot: { group_id: g.id, name: 'gs1' } }, '3.14');
    expect(res.status).toBe(202);
    expect(Object.keys(res.body.group_snapshot).sort()).toEqual(['group_type_id', 'id', 'name']);
    const gsId = res.body.group_snapshot.id;
    const gs = await until('member', `/group_snapshots/${gsId}`, 'group_snapshot', 'available');
    expect(gs).toEqual({
      id: gsId,
      group_id: g.id,
      group_type_id: g.gt,
      status: 'available',
      created_at: expect.any(String),
      name: 'gs1',
      description: null,
    });
    const snaps = (await call('member', 'get', '/snapshots/detail')).body.snapshots.filter((s: any) => s.group_snapshot_id === gsId);
    expect(snaps.map((s: any) => ({ volume_id: s.volume_id, status: s.status }))).toEqual([{ volume_id: vol, status: 'available' }]);
    const snapRow = await (team.cairn().db as any)('snapshots').where({ id: snaps[0].id }).first();
    expect(readAt(snapRow.provider_location, 4096, 10).toString()).toBe('group-data');
    // A member goes only with its group snapshot; the group only without group snapshots.
    expect((await call('member', 'delete', `/snapshots/${snaps[0].id}`)).status).toBe(400);
    expect((await call('member', 'post', `/groups/${g.id}/action`, { delete: { 'delete-volumes': true } })).body.badRequest.message).toBe(
      'Invalid Group: Group has existing snapshots.',
    );
    expect((await call('member', 'get', '/group_snapshots/detail', undefined, '3.14')).body.group_snapshots).toContainEqual(gs);
    expect((await call('member', 'get', '/group_snapshots', undefined, '3.14')).body.group_snapshots).toContainEqual({
      id: gsId,
      name: 'gs1',
    });
    expect((await call('other', 'get', `/group_snapshots/${gsId}`)).status).toBe(404);
    expect((await call('member', 'delete', `/group_snapshots/${gsId}`)).status).toBe(202);
    await gone('member', `/group_snapshots/${gsId}`);
    await gone('member', `/snapshots/${snaps[0].id}`);
    expect(fs.existsSync(snapRow.provider_location)).toBe(false);
  }, 60_000);

  it('reset_status of a group snapshot (admin, 3.19)', async () => {
    const g = await group();
    await memberVolume(g);
    const gsId = (await call('member', 'post', '/group_snapshots', { group_snapshot: { group_id: g.id } })).body.group_snapshot.id;
    await until('member', `/group_snapshots/${gsId}`, 'group_snapshot', 'available');
    for (const status of ['creating', 'available', 'error']) {
      expect((await call('admin', 'post', `/group_snapshots/${gsId}/action`, { reset_status: { status } })).status).toBe(202);
      expect((await call('member', 'get', `/group_snapshots/${gsId}`)).body.group_snapshot.status).toBe(status);
    }
    expect(
      (await call('admin', 'post', `/group_snapshots/${gsId}/action`, { reset_status: { status: 'bogus' } })).body.badRequest.message,
    ).toBe(
      "Invalid GroupSnapshot Status: Group snapshot status: bogus is invalid, valid statuses are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting').",
    );
    expect((await call('admin', 'post', `/group_snapshots/${gsId}/action`, { reset_status: { status: 'available' } }, '3.18')).status).toBe(
      404,
    );
  }, 60_000);

  it('a group from a group snapshot and from a group: one new volume per source with its data; available once they are made', async () => {
    const g = await group();
    const vol = await memberVolume(g);
    writeAt(await volumeFile(team.cairn().db as any, vol), 8192, 'source-data');
    const gsId = (await call('member', 'post', '/group_snapshots', { group_snapshot: { group_id: g.id } })).body.group_snapshot.id;
    await until('member', `/group_snapshots/${gsId}`, 'group_snapshot', 'available');
    for (const src of [{ group_snapshot_id: gsId }, { source_group_id: g.id }]) {
      const res = await call('member', 'post', '/groups/action', { 'create-from-src': { name: 'copy', ...src } }, '3.14');
      expect(res.status).toBe(202);
      expect(res.body.group).toEqual({ id: expect.any(String), name: 'copy' });
      const copy = await until('member', `/groups/${res.body.group.id}`, 'group', 'available');
      expect(copy).toMatchObject({ group_type: g.gt, volume_types: [g.vt], ...src });
      const members = (await call('member', 'get', `/volumes/detail?group_id=${copy.id}`)).body.volumes;
      expect(members.map((v: any) => v.status)).toEqual(['available']);
      expect(readAt(await volumeFile(team.cairn().db as any, members[0].id), 8192, 11).toString()).toBe('source-data');
      expect((await call('member', 'post', `/groups/${copy.id}/action`, { delete: { 'delete-volumes': true } })).status).toBe(202);
      await gone('member', `/groups/${copy.id}`);
    }
    const empty = await group();
    expect(
      (await call('member', 'post', '/groups/action', { 'create-from-src': { source_group_id: empty.id } })).body.badRequest.message,
    ).toBe('Invalid Group: Source Group is empty. No group will be created.');
    expect((await call('member', 'post', '/groups/action', { 'create-from-src': { source_group_id: g.id } }, '3.13')).status).toBe(404);
  }, 90_000);
});

describe('volume create bodies per microversion', () => {
  it('an unknown key is ignored before 3.53 and refused from 3.53', async () => {
    const lenient = await call('member', 'post', '/volumes', { volume: { size: 1, "'snapshot_id": randomUUID() } }, '3.0');
    expect(lenient.status).toBe(202);
    expect(fault(await call('member', 'post', '/volumes', { volume: { size: 1, "'snapshot_id": 'x' } }, '3.53'))).toEqual({
      status: 400,
      body: {
        badRequest: {
          code: 400,
          message:
            "Invalid input for field/attribute volume. Value: {'size': 1, \"'snapshot_id\": 'x'}. Additional properties are not allowed (\"'snapshot_id\" was unexpected)",
        },
      },
    });
    expect((await call('member', 'post', '/volumes', { volume: { size: 1 }, stray: 1 }, '3.0')).status).toBe(400);
  });

  it('an update without any key is accepted before 3.53 and refused from 3.53', async () => {
    const v = (await call('member', 'post', '/volumes', { volume: { size: 1 } })).body.volume.id;
    expect((await call('member', 'put', `/volumes/${v}`, { volume: {} }, '3.52')).status).toBe(200);
    expect(fault(await call('member', 'put', `/volumes/${v}`, { volume: {} }, '3.53'))).toEqual({
      status: 400,
      body: {
        badRequest: {
          code: 400,
          message: 'Invalid input for field/attribute volume. Value: {}. {} is not valid under any of the given schemas',
        },
      },
    });
  });
});
