/**
 * An attachment's `instance_uuid` names a server of the caller's project or
 * one cairn's compute API does not know; another project's server is a 404
 * (Nova's InstanceNotFound) and changes nothing, through POST /attachments and
 * the legacy os-attach alike (Keystone roles: members of two projects).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { waitFor } from '../helpers/cairn';
import { personas } from '../helpers/personas';

const P1 = '1a'.repeat(16);
const P2 = '2b'.repeat(16);
const team = personas(
  {
    alice: { project: P1, roles: ['member', 'reader'] },
    bob: { project: P2, roles: ['member', 'reader'] },
    admin: { project: P1, roles: ['admin', 'member', 'reader'] },
  },
  { mv: '3.70', startTimeoutMs: 60_000 },
);
jest.setTimeout(60_000);

type Who = 'alice' | 'bob' | 'admin';
const nova = (who: Who) => ({ 'X-Auth-Token': team.token(who), 'OpenStack-API-Version': 'compute 2.89' });

async function boot(who: Who): Promise<string> {
  const res = await request(team.cairn().url)
    .post(`/v2.1/${team.project(who)}/servers`)
    .set(nova(who))
    .send({
      server: {
        name: `srv-${who}`,
        flavorRef: '1',
        networks: 'none',
        imageRef: '',
        block_device_mapping_v2: [
          { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true },
        ],
      },
    });
  expect(res.status).toBe(202);
  const id = res.body.server.id as string;
  await waitFor(
    async () => {
      const s = (
        await request(team.cairn().url)
          .get(`/v2.1/${team.project(who)}/servers/${id}`)
          .set(nova(who))
      ).body.server;
      return s?.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null;
    },
    30_000,
    `server ${id} ACTIVE`,
  );
  return id;
}

async function volume(who: Who): Promise<string> {
  const res = await team.call(who, 'post', '/volumes', { volume: { size: 1 } });
  expect(res.status).toBe(202);
  const id = res.body.volume.id as string;
  await waitFor(async () => (await team.call(who, 'get', `/volumes/${id}`)).body.volume?.status === 'available', 20_000, 'volume');
  return id;
}

const attachmentsOf = async (who: Who, volumeId: string) =>
  (await team.call(who, 'get', `/attachments?volume_id=${volumeId}`)).body.attachments as any[];

describe("attachments name servers of the caller's project", () => {
  let bobServer: string;
  let aliceServer: string;
  beforeAll(async () => {
    [bobServer, aliceServer] = [await boot('bob'), await boot('alice')];
  }, 90_000);

  it("POST /attachments to another project's server: 404 InstanceNotFound, the volume untouched", async () => {
    const v = await volume('alice');
    const res = await team.call('alice', 'post', '/attachments', {
      attachment: { volume_uuid: v, instance_uuid: bobServer, connector: { host: 'h1', initiator: 'iqn.x:h1' } },
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ itemNotFound: { code: 404, message: `Instance ${bobServer} could not be found.` } });
    expect((await team.call('alice', 'get', `/volumes/${v}`)).body.volume.status).toBe('available');
    expect(await attachmentsOf('alice', v)).toEqual([]);
    // Bob's server has no attachment of Alice's volume (nor a folder for it).
    expect(
      (await team.call('bob', 'get', `/attachments?instance_id=${bobServer}`)).body.attachments.map((a: any) => a.volume_id),
    ).not.toContain(v);
  });

  it("a server unknown to cairn (a Nova elsewhere) and the caller's own server are accepted", async () => {
    const v = await volume('alice');
    const elsewhere = randomUUID();
    const res = await team.call('alice', 'post', '/attachments', { attachment: { volume_uuid: v, instance_uuid: elsewhere } });
    expect(res.status).toBe(200);
    expect(res.body.attachment).toMatchObject({ instance: elsewhere, status: 'reserved' });
    expect((await team.call('alice', 'delete', `/attachments/${res.body.attachment.id}`)).status).toBe(200);
    const own = await team.call('alice', 'post', '/attachments', { attachment: { volume_uuid: v, instance_uuid: aliceServer } });
    expect(own.status).toBe(200);
    expect(own.body.attachment.instance).toBe(aliceServer);
    expect((await team.call('alice', 'delete', `/attachments/${own.body.attachment.id}`)).status).toBe(200);
  });

  it("legacy os-attach to another project's server: 404, the reservation stays as it was", async () => {
    const v = await volume('alice');
    expect((await team.call('alice', 'post', `/volumes/${v}/action`, { 'os-reserve': {} })).status).toBe(202);
    const res = await team.call('alice', 'post', `/volumes/${v}/action`, {
      'os-attach': { instance_uuid: bobServer, mountpoint: '/dev/vdb', mode: 'rw' },
    });
    expect(res.status).toBe(404);
    expect(res.body.itemNotFound.message).toBe(`Instance ${bobServer} could not be found.`);
    expect((await team.call('alice', 'get', `/volumes/${v}`)).body.volume.status).toBe('attaching');
    expect((await attachmentsOf('alice', v)).map((a) => [a.status, a.instance])).toEqual([['reserved', null]]);
    expect((await team.call('alice', 'post', `/volumes/${v}/action`, { 'os-unreserve': {} })).status).toBe(202);
  });

  it('an admin is not held (Cinder lets an admin name any server)', async () => {
    const v = await volume('admin');
    const res = await team.call('admin', 'post', '/attachments', { attachment: { volume_uuid: v, instance_uuid: bobServer } });
    expect(res.status).toBe(200);
    expect((await team.call('admin', 'delete', `/attachments/${res.body.attachment.id}`)).status).toBe(200);
  });
});
