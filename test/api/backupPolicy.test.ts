import { waitFor } from '../helpers/cairn';
import { personas } from '../helpers/personas';

const P1 = 'aaaa1111aaaa1111aaaa1111aaaa1111';
const P2 = 'bbbb2222bbbb2222bbbb2222bbbb2222';
const team = personas(
  {
    admin: { user: 'adm', project: P1, roles: ['admin', 'member', 'reader'] },
    owner: { user: 'own', project: P1, roles: ['member', 'reader'] },
    other: { user: 'oth', project: P2, roles: ['member', 'reader'] },
    reader: { user: 'rdr', project: P1, roles: ['reader'] },
  },
  { mv: '3.70' },
);

async function until(who: 'owner' | 'admin', p: string, key: string, status: string): Promise<any> {
  return waitFor(
    async () => {
      const item = (await team.call(who, 'get', p)).body[key];
      return item?.status === status && item;
    },
    30_000,
    `${p} ${status}`,
  );
}

describe('backups and roles', () => {
  it("another project's member gets 404; a reader cannot create; admin-only actions are 403 for members", async () => {
    const v = await team.call('owner', 'post', '/volumes', { volume: { size: 1 } });
    await until('owner', `/volumes/${v.body.volume.id}`, 'volume', 'available');
    expect((await team.call('reader', 'post', '/backups', { backup: { volume_id: v.body.volume.id } })).status).toBe(403);
    const created = await team.call('owner', 'post', '/backups', { backup: { volume_id: v.body.volume.id } });
    expect(created.status).toBe(202);
    const id = created.body.backup.id;
    const shown = await until('owner', `/backups/${id}`, 'backup', 'available');
    // backup:backup_project_attribute is admin-only
    expect(shown['os-backup-project-attr:project_id']).toBeUndefined();
    expect(shown.user_id).toBeUndefined();
    const asAdmin = (await team.call('admin', 'get', `/backups/${id}`)).body.backup;
    expect(asAdmin).toMatchObject({ 'os-backup-project-attr:project_id': P1, user_id: 'own' });

    expect((await team.call('other', 'get', `/backups/${id}`)).status).toBe(404);
    expect((await team.call('other', 'delete', `/backups/${id}`)).status).toBe(404);
    expect((await team.call('other', 'post', `/backups/${id}/restore`, { restore: {} })).status).toBe(404);
    expect((await team.call('other', 'get', '/backups')).body.backups).toEqual([]);
    expect((await team.call('owner', 'get', `/backups/${id}/export_record`)).status).toBe(403);
    expect((await team.call('owner', 'post', `/backups/${id}/action`, { 'os-reset_status': { status: 'error' } })).status).toBe(403);
    expect((await team.call('owner', 'post', `/backups/${id}/action`, { 'os-force_delete': {} })).status).toBe(403);
    expect(
      (await team.call('owner', 'post', '/backups/import_record', { 'backup-record': { backup_service: 'x', backup_url: 'eA==' } })).status,
    ).toBe(403);
    expect((await team.call('admin', 'get', '/backups?all_tenants=1')).body.backups.map((b: any) => b.id)).toContain(id);
  });
});
