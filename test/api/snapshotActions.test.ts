/**
 * Snapshot actions with Keystone roles (issue #4): `os-update_snapshot_status`
 * (members of the snapshot's project and admins; Cinder's status_map and
 * progress format) and `os-unmanage` (admin; the row goes, the data stays).
 */
import fs from 'node:fs';
import path from 'node:path';
import type request from 'supertest';
import { waitFor } from '../helpers/cairn';
import { personas, type WhoOf } from '../helpers/personas';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb02';
const team = personas(
  {
    member: { user: 'm1', project: P1, roles: ['member', 'reader'] },
    reader: { user: 'r1', project: P1, roles: ['reader'] },
    admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
    other: { user: 'o1', project: P2, roles: ['member', 'reader'] },
  },
  { mv: '3.70' },
);

type Who = WhoOf<typeof team>;
const call = team.call;
const action = (who: Who, id: string, body: object) => call(who, 'post', `/snapshots/${id}/action`, body);
const show = async (id: string) => (await call('member', 'get', `/snapshots/${id}`)).body.snapshot;

async function availableSnapshot(): Promise<any> {
  const v = await call('member', 'post', '/volumes', { volume: { size: 1 } });
  expect(v.status).toBe(202);
  await waitFor(async () => (await call('member', 'get', `/volumes/${v.body.volume.id}`)).body.volume?.status === 'available', 30_000);
  const s = await call('member', 'post', '/snapshots', { snapshot: { volume_id: v.body.volume.id } });
  expect(s.status).toBe(202);
  return waitFor(async () => {
    const x = await show(s.body.snapshot.id);
    return x?.status === 'available' && x;
  }, 30_000);
}

/** A snapshot an admin put back into `status` (os-reset_status), as tempest does before update_snapshot_status. */
async function snapshotIn(status: string): Promise<any> {
  const s = await availableSnapshot();
  expect((await action('admin', s.id, { 'os-reset_status': { status } })).status).toBe(202);
  return s;
}

const fault = (res: request.Response) => ({ status: res.status, body: res.body });

describe('os-update_snapshot_status', () => {
  it("a member of the project moves a creating snapshot to error with progress (tempest's test_update_snapshot_status)", async () => {
    const s = await snapshotIn('creating');
    const res = await action('member', s.id, { 'os-update_snapshot_status': { status: 'error', progress: '80%' } });
    expect(res.status).toBe(202);
    expect(await show(s.id)).toMatchObject({ status: 'error', 'os-extended-snapshot-attributes:progress': '80%' });
  });

  it('creating → available and creating → creating; deleting → error_deleting; without progress the progress stays', async () => {
    const s = await snapshotIn('creating');
    expect((await action('member', s.id, { 'os-update_snapshot_status': { status: 'creating', progress: '50%' } })).status).toBe(202);
    expect((await show(s.id))['os-extended-snapshot-attributes:progress']).toBe('50%');
    expect((await action('member', s.id, { 'os-update_snapshot_status': { status: 'available' } })).status).toBe(202);
    expect(await show(s.id)).toMatchObject({ status: 'available', 'os-extended-snapshot-attributes:progress': '50%' });
    expect((await action('admin', s.id, { 'os-reset_status': { status: 'deleting' } })).status).toBe(202);
    expect((await action('member', s.id, { 'os-update_snapshot_status': { status: 'error_deleting', progress: null } })).status).toBe(202);
    expect((await show(s.id)).status).toBe('error_deleting');
  });

  it('refuses a snapshot neither creating nor deleting, and a target its status_map does not allow', async () => {
    const s = await availableSnapshot();
    expect(fault(await action('member', s.id, { 'os-update_snapshot_status': { status: 'error' } }))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Snapshot status available not allowed for update_snapshot_status' } },
    });
    expect((await action('admin', s.id, { 'os-reset_status': { status: 'creating' } })).status).toBe(202);
    expect(fault(await action('member', s.id, { 'os-update_snapshot_status': { status: 'deleting' } }))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Provided snapshot status deleting not allowed for snapshot with status creating.' } },
    });
    expect((await show(s.id)).status).toBe('creating');
  });

  it('progress must be an integer percentage from 0% to 100%; status is required and nothing else is allowed', async () => {
    const s = await snapshotIn('creating');
    for (const progress of ['101%', '-1%', '50', 'abc%', '%', '5.5%']) {
      expect({
        progress,
        ...fault(await action('member', s.id, { 'os-update_snapshot_status': { status: 'available', progress } })),
      }).toEqual({
        progress,
        status: 400,
        body: { badRequest: { code: 400, message: 'Invalid input received: progress must be an integer percentage' } },
      });
    }
    expect((await action('member', s.id, { 'os-update_snapshot_status': { progress: '5%' } })).status).toBe(400);
    expect((await action('member', s.id, { 'os-update_snapshot_status': { status: 'available', bogus: 1 } })).status).toBe(400);
    expect(await show(s.id)).toMatchObject({ status: 'creating', 'os-extended-snapshot-attributes:progress': '100%' });
    expect((await action('member', s.id, { 'os-update_snapshot_status': { status: 'available', progress: '0%' } })).status).toBe(202);
  });

  it("a reader may not (403); another project's member does not see the snapshot (404)", async () => {
    const s = await snapshotIn('creating');
    const body = { 'os-update_snapshot_status': { status: 'available' } };
    expect((await action('reader', s.id, body)).status).toBe(403);
    expect(fault(await action('other', s.id, body))).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: `Snapshot ${s.id} could not be found.` } },
    });
    expect((await show(s.id)).status).toBe('creating');
  });
});

describe('os-unmanage', () => {
  it('admin: 202, the snapshot goes (404) and its quota usage with it, its data stays on the backend', async () => {
    const s = await availableSnapshot();
    const row = await team.cairn().db('snapshots').where({ id: s.id }).first();
    expect(fs.existsSync(row.provider_location)).toBe(true);
    const usage = async () => (await call('member', 'get', `/os-quota-sets/${P1}?usage=True`)).body.quota_set.snapshots.in_use;
    const before = await usage();
    expect((await action('admin', s.id, { 'os-unmanage': {} })).status).toBe(202);
    await waitFor(async () => (await call('member', 'get', `/snapshots/${s.id}`)).status === 404, 20_000, 'snapshot unmanaged');
    expect(fs.existsSync(row.provider_location)).toBe(true);
    expect(path.basename(row.provider_location)).toBe(`snapshot-${s.id}`);
    expect(await usage()).toBe(before - 1);
    // Its volume no longer has snapshots, so it may be deleted now.
    expect((await call('member', 'delete', `/volumes/${s.volume_id}`)).status).toBe(202);
  });

  it("goes through a snapshot.delete task that only forgets it (unmanage_only), as Cinder's delete_snapshot(unmanage_only=True)", async () => {
    const s = await availableSnapshot();
    expect((await action('admin', s.id, { 'os-unmanage': null })).status).toBe(202);
    await waitFor(async () => (await call('member', 'get', `/snapshots/${s.id}`)).status === 404, 20_000, 'snapshot unmanaged');
    const task = await team.cairn().db('tasks').where({ resource_id: s.id, kind: 'snapshot.delete' }).first();
    expect({ state: task.state, unmanageOnly: task.payload.unmanage_only }).toEqual({ state: 'done', unmanageOnly: true });
  });

  it('a member may not (403); a snapshot neither available nor error is refused as a delete is', async () => {
    const s = await availableSnapshot();
    expect(fault(await action('member', s.id, { 'os-unmanage': {} }))).toEqual({
      status: 403,
      body: { forbidden: { code: 403, message: "Policy doesn't allow snapshot_extension:snapshot_unmanage to be performed." } },
    });
    expect((await action('admin', s.id, { 'os-reset_status': { status: 'creating' } })).status).toBe(202);
    expect(fault(await action('admin', s.id, { 'os-unmanage': {} }))).toEqual({
      status: 400,
      body: {
        badRequest: { code: 400, message: 'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.' },
      },
    });
    expect((await show(s.id)).status).toBe('creating');
  });
});
