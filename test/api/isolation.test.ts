/**
 * Project isolation, route by route: every operation of api-spec/openapi.yaml
 * (the volume API) and of api-spec/compute.yaml (the compute API) is tried
 * with project B's tokens on project A's resources (Keystone auth against
 * the in-process fake, roles per token). A route naming one of A's
 * resources must answer 404 (or 403 where the caller's role decides first);
 * a list must not show any of A's; nothing of A's may change.
 *
 * A new route whose path parameter or body this file has no fixture for
 * fails here, so that it is tried too: add it to PARAMS or BODIES.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { loadOpenApi } from '../../src/http/cinder/app';
import { loadComputeApi } from '../../src/http/nova/app';
import { FakeKeystone } from '../helpers/fakeKeystone';
import { startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

const PA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const PADMIN = 'cccccccccccccccccccccccccccccccc';
const MV = { 'OpenStack-API-Version': 'volume 3.70' };
const NOVA_MV = { 'OpenStack-API-Version': 'compute 2.89' };

let ks: FakeKeystone;
let cairn: TestCairn;
const tok: Record<'aMember' | 'aReader' | 'bMember' | 'bReader' | 'admin', string> = {} as any;
/** A's resources, filled in beforeAll. */
const a = {
  volume: '',
  type: '',
  attachment: '',
  snapshot: '',
  message: '',
  server: '',
  serverVolume: '',
  transfer: '',
  group: '',
  groupSnapshot: '',
  groupType: '',
  backup: '',
  action: '',
  keypair: '',
};

const api = () => request(cairn.url);
/** The deprecated os-volumes/os-snapshots proxies exist up to compute 2.35: they are tried there. */
const PROXY_MV = { 'OpenStack-API-Version': 'compute 2.35' };
const send = (method: string, url: string, token: string, body?: unknown) => {
  const nova = /^\/v2\.1(\/[0-9a-f]+)?\/os-(volumes|snapshots)\b/.test(url) ? PROXY_MV : NOVA_MV;
  const req = (api() as any)[method](url).set({ ...(url.startsWith('/v2.1') ? nova : MV), 'X-Auth-Token': token }) as request.Test;
  return body === undefined ? req : req.send(body as object);
};

beforeAll(async () => {
  ks = await FakeKeystone.start();
  cairn = await startTestCairn(ks.env());
  tok.aMember = ks.issue({ userId: 'ua', projectId: PA, roles: ['member', 'reader'] });
  tok.aReader = ks.issue({ userId: 'ua-r', projectId: PA, roles: ['reader'] });
  tok.bMember = ks.issue({ userId: 'ub', projectId: PB, roles: ['member', 'reader'] });
  tok.bReader = ks.issue({ userId: 'ub-r', projectId: PB, roles: ['reader'] });
  tok.admin = ks.issue({ userId: 'admin', projectId: PADMIN, roles: ['admin', 'member', 'reader'] });

  // A private type only A may use, with an extra spec (scoped, so placement ignores it).
  const type = await send('post', `/v3/${PADMIN}/types`, tok.admin, {
    volume_type: { name: 'a-private', is_public: false, extra_specs: { 'scope:k': 'v' } },
  });
  a.type = type.body.volume_type.id;
  expect((await send('post', `/v3/${PADMIN}/types/${a.type}/action`, tok.admin, { addProjectAccess: { project: PA } })).status).toBe(202);
  // A's volume of that type, with metadata, available, and attached.
  const vol = await send('post', `/v3/${PA}/volumes`, tok.aMember, {
    volume: { size: 1, name: 'a-vol', volume_type: a.type, metadata: { k: 'v' } },
  });
  expect(vol.status).toBe(202);
  a.volume = vol.body.volume.id;
  await waitFor(async () => (await send('get', `/v3/${PA}/volumes/${a.volume}`, tok.aMember)).body.volume.status === 'available');
  // A's snapshot of it, with metadata, available (taken before the attachment reserves the volume).
  const snap = await send('post', `/v3/${PA}/snapshots`, tok.aMember, {
    snapshot: { volume_id: a.volume, name: 'a-snap', metadata: { k: 'v' } },
  });
  expect(snap.status).toBe(202);
  a.snapshot = snap.body.snapshot.id;
  await waitFor(async () => (await send('get', `/v3/${PA}/snapshots/${a.snapshot}`, tok.aMember)).body.snapshot.status === 'available');
  // A's backup of that volume, available.
  const backup = await send('post', `/v3/${PA}/backups`, tok.aMember, { backup: { volume_id: a.volume, name: 'a-backup' } });
  expect(backup.status).toBe(202);
  a.backup = backup.body.backup.id;
  // A backup reads the whole volume (1 GiB of holes here): give it time on a busy machine.
  await waitFor(async () => (await send('get', `/v3/${PA}/backups/${a.backup}`, tok.aMember)).body.backup.status === 'available', 60_000);
  await waitFor(async () => (await send('get', `/v3/${PA}/volumes/${a.volume}`, tok.aMember)).body.volume.status === 'available');
  // A's transfer of a second volume of A's (awaiting-transfer), which B may not see, cancel, or accept without its key.
  const offered = await send('post', `/v3/${PA}/volumes`, tok.aMember, { volume: { size: 1, name: 'a-offered' } });
  await waitFor(
    async () => (await send('get', `/v3/${PA}/volumes/${offered.body.volume.id}`, tok.aMember)).body.volume.status === 'available',
  );
  a.transfer = (
    await send('post', `/v3/${PA}/os-volume-transfer`, tok.aMember, { transfer: { volume_id: offered.body.volume.id } })
  ).body.transfer.id;
  // A user message of A's: a volume of a type no backend serves fails at once and records one.
  const nowhere = await send('post', `/v3/${PADMIN}/types`, tok.admin, {
    volume_type: { name: 'nowhere', extra_specs: { volume_backend_name: 'nowhere' } },
  });
  await send('post', `/v3/${PA}/volumes`, tok.aMember, { volume: { size: 1, volume_type: nowhere.body.volume_type.id } });
  a.message = (await send('get', `/v3/${PA}/messages`, tok.aMember)).body?.messages?.[0]?.id ?? '';
  const att = await send('post', `/v3/${PA}/attachments`, tok.aMember, {
    attachment: { volume_uuid: a.volume, instance_uuid: randomUUID() },
  });
  a.attachment = att.body?.attachment?.id ?? '';
  expect((await send('put', `/v3/${PADMIN}/os-quota-sets/${PA}`, tok.admin, { quota_set: { volumes: 7 } })).status).toBe(200);
  // A's group (of a public group type and A's private volume type) and its group snapshot; a private group type B may not see.
  const publicGt = await send('post', `/v3/${PADMIN}/group_types`, tok.admin, { group_type: { name: 'a-gt-public' } });
  a.groupType = (
    await send('post', `/v3/${PADMIN}/group_types`, tok.admin, {
      group_type: { name: 'a-gt-private', is_public: false, group_specs: { k: 'v' } },
    })
  ).body.group_type.id;
  const grp = await send('post', `/v3/${PA}/groups`, tok.aMember, {
    group: { name: 'a-group', group_type: publicGt.body.group_type.id, volume_types: [a.type] },
  });
  expect(grp.status).toBe(202);
  a.group = grp.body.group.id;
  a.groupSnapshot = (
    await send('post', `/v3/${PA}/group_snapshots`, tok.aMember, { group_snapshot: { group_id: a.group, name: 'a-gs' } })
  ).body.group_snapshot.id;
  // A's server, booted from a blank volume (its root, attached), with metadata, and A's own compute quota.
  const srv = await send('post', `/v2.1/${PA}/servers`, tok.aMember, {
    server: {
      name: 'a-srv',
      flavorRef: '1',
      networks: 'none',
      metadata: { k: 'v' },
      block_device_mapping_v2: [
        { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true },
      ],
    },
  });
  expect(srv.status).toBe(202);
  a.server = srv.body.server.id;
  await waitFor(async () => (await send('get', `/v2.1/${PA}/servers/${a.server}`, tok.aMember)).body.server.status === 'ACTIVE', 20_000);
  a.serverVolume = (
    await send('get', `/v2.1/${PA}/servers/${a.server}/os-volume_attachments`, tok.aMember)
  ).body.volumeAttachments[0].volumeId;
  // The request id of A's server create (its instance action), and a key pair of A's user.
  a.action = (await send('get', `/v2.1/${PA}/servers/${a.server}/os-instance-actions`, tok.aMember)).body.instanceActions[0].request_id;
  expect((await send('post', '/v2.1/os-keypairs', tok.aMember, { keypair: { name: 'a-secret-keypair' } })).status).toBe(201);
  a.keypair = 'a-secret-keypair';
  expect((await send('put', `/v2.1/os-quota-sets/${PA}`, tok.admin, { quota_set: { instances: 7 } })).status).toBe(200);
}, 180_000);
afterAll(async () => {
  await cairn?.stop();
  await ks?.stop();
});

/** What a path parameter is bound to: always one of A's things. */
const PARAMS: Record<string, () => string> = {
  volume_id: () => a.volume,
  type_id: () => a.type,
  key: () => 'k',
  attachment_id: () => a.attachment,
  snapshot_id: () => a.snapshot,
  message_id: () => a.message,
  quota_project_id: () => PA,
  quota_class_name: () => 'default',
  // Hosts belong to no project; their routes are admin-only (startTestCairn's CAIRN_HOSTNAME).
  host_name: () => 'testhost',
  // QoS specs belong to no project either, and every qos-specs route is admin-only.
  qos_id: () => '5e1f0c2a-6b7d-4e8f-9a0b-1c2d3e4f5a6b',
  transfer_id: () => a.transfer,
  service_action: () => 'disable',
  encryption_key: () => 'cipher',
  // A private group type (B's member sees public ones only; every change is admin-only), A's group and group snapshot.
  group_type_id: () => a.groupType,
  spec_id: () => 'k',
  group_id: () => a.group,
  group_snapshot_id: () => a.groupSnapshot,
  backup_id: () => a.backup,
};

/** A valid body per operation, so that validation passes and the route's own checks answer. */
const BODIES: Record<string, () => unknown> = {
  // A's private type: B may not create volumes of it.
  createVolume: () => ({ volume: { size: 1, volume_type: a.type } }),
  updateVolume: () => ({ volume: { name: 'stolen' } }),
  createVolumeMetadata: () => ({ metadata: { k: 'stolen' } }),
  replaceVolumeMetadata: () => ({ metadata: { k: 'stolen' } }),
  updateVolumeMetadataItem: () => ({ meta: { k: 'stolen' } }),
  volumeAction: () => ({ 'os-reserve': {} }), // every action is tried below (ACTIONS)
  createAttachment: () => ({ attachment: { volume_uuid: a.volume, instance_uuid: randomUUID() } }),
  updateAttachment: () => ({ attachment: { connector: { host: 'h', initiator: 'iqn.x' } } }),
  attachmentAction: () => ({ 'os-complete': {} }),
  // A's volume: B may not snapshot it.
  createSnapshot: () => ({ snapshot: { volume_id: a.volume } }),
  updateSnapshot: () => ({ snapshot: { name: 'stolen' } }),
  createSnapshotMetadata: () => ({ metadata: { k: 'stolen' } }),
  replaceSnapshotMetadata: () => ({ metadata: { k: 'stolen' } }),
  updateSnapshotMetadataItem: () => ({ meta: { k: 'stolen' } }),
  snapshotAction: () => ({ 'os-force_delete': {} }),
  createVolumeType: () => ({ volume_type: { name: 'b-type' } }),
  updateVolumeType: () => ({ volume_type: { name: 'stolen' } }),
  createExtraSpecs: () => ({ extra_specs: { k: 'stolen' } }),
  updateExtraSpec: () => ({ k: 'stolen' }),
  volumeTypeAction: () => ({ addProjectAccess: { project: PB } }),
  updateQuotaSet: () => ({ quota_set: { volumes: 100 } }),
  updateQuotaClassSet: () => ({ quota_class_set: { volumes: 100 } }),
  updateService: () => ({ host: 'testhost@file', binary: 'cinder-volume' }),
  createTypeEncryption: () => ({ encryption: { provider: 'luks', control_location: 'front-end' } }),
  updateTypeEncryption: () => ({ encryption: { provider: 'luks' } }),
  createQosSpecs: () => ({ qos_specs: { name: 'b-qos' } }),
  setQosSpecsKeys: () => ({ qos_specs: { k: 'stolen' } }),
  unsetQosSpecsKeys: () => ({ keys: ['k'] }),
  // A's volume: B may not offer it.
  createVolumeTransfersLegacy: () => ({ transfer: { volume_id: a.volume } }),
  createVolumeTransfers: () => ({ transfer: { volume_id: a.volume } }),
  // Accepting is for other projects, but only with the auth key: a guess is refused (TRANSFER_ACCEPTS).
  acceptVolumeTransfersLegacy: () => ({ accept: { auth_key: 'guessed' } }),
  acceptVolumeTransfers: () => ({ accept: { auth_key: 'guessed' } }),
  createGroupType: () => ({ group_type: { name: 'b-gt' } }),
  updateGroupType: () => ({ group_type: { name: 'stolen' } }),
  createGroupSpecs: () => ({ group_specs: { k: 'stolen' } }),
  updateGroupSpec: () => ({ k: 'stolen' }),
  // A's private group type and volume type, A's group and group snapshot as sources: all unknown to B.
  createGroup: () => ({ group: { name: 'b-group', group_type: a.groupType, volume_types: [a.type] } }),
  updateGroup: () => ({ group: { name: 'stolen', add_volumes: a.volume } }),
  createGroupFromSource: () => ({ 'create-from-src': { source_group_id: a.group } }),
  groupAction: () => ({ delete: { 'delete-volumes': true } }),
  createGroupSnapshot: () => ({ group_snapshot: { group_id: a.group } }),
  groupSnapshotAction: () => ({ reset_status: { status: 'error' } }),
  // A's volume: B may not back it up; A's backup: B may not rename, restore or reset it.
  createBackup: () => ({ backup: { volume_id: a.volume } }),
  updateBackup: () => ({ backup: { name: 'stolen' } }),
  restoreBackup: () => ({ restore: { volume_id: a.volume } }),
  backupAction: () => ({ 'os-reset_status': { status: 'error' } }),
  // A record B made up: nothing of A's to import.
  importBackupRecord: () => ({ 'backup-record': { backup_service: 'cinder.backup.drivers.posix.PosixBackupDriver', backup_url: 'e30=' } }),
};

/** The one route meant for another project's member: without A's auth key it is Cinder's 400 and changes nothing. */
const TRANSFER_ACCEPTS = new Set(['acceptVolumeTransfersLegacy', 'acceptVolumeTransfers']);

/** Every volume action cairn may know; one it does not know is a 400 naming it, which reveals nothing either. */
const ACTIONS: Record<string, unknown> = {
  'os-extend': { new_size: 2 },
  'os-reset_status': { status: 'error' },
  'os-set_bootable': { bootable: true },
  'os-update_readonly_flag': { readonly: true },
  'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' },
  'os-detach': {},
  'os-reserve': {},
  'os-unreserve': {},
  'os-begin_detaching': {},
  'os-roll_detaching': {},
  'os-initialize_connection': { connector: { host: 'h' } },
  'os-terminate_connection': { connector: { host: 'h' } },
  'os-force_detach': {},
  'os-force_delete': {},
  'os-retype': { new_type: 'x' },
  'os-set_image_metadata': { metadata: { a: 'b' } },
  'os-unset_image_metadata': { key: 'a' },
  'os-show_image_metadata': {},
  'os-volume_upload_image': { image_name: 'i' },
  revert: { snapshot_id: randomUUID() },
  'os-migrate_volume': { host: 'h' },
  'os-unmanage': {},
  'os-reimage': { image_id: randomUUID() },
};

interface Op {
  method: string;
  path: string;
  operationId: string;
  hasBody: boolean;
}

function operations(doc: any = loadOpenApi()): Op[] {
  const ops: Op[] = [];
  for (const [p, item] of Object.entries<any>(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      if (item[method]) ops.push({ method, path: p, operationId: item[method].operationId, hasBody: Boolean(item[method].requestBody) });
    }
  }
  return ops;
}

/** The op's URL in `project`, with A's resources in its parameters; throws for an unknown parameter. */
function urlOf(op: Op, project: string): string {
  return `/v3/${project}${op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const fixture = PARAMS[name];
    if (!fixture) throw new Error(`no fixture for path parameter {${name}} of ${op.operationId}: add one to PARAMS`);
    const v = fixture();
    if (!v) throw new Error(`the fixture for {${name}} was not created (see beforeAll)`);
    return encodeURIComponent(v);
  })}`;
}

function bodyOf(op: Op): unknown {
  if (!op.hasBody) return undefined;
  const fixture = BODIES[op.operationId];
  if (!fixture) throw new Error(`no body fixture for ${op.operationId}: add one to BODIES`);
  return fixture();
}

/**
 * Nothing of A's in a response: a refusal is a bare fault envelope (its text
 * may echo the id the caller sent, as Cinder's "Volume <id> could not be
 * found." does); anything else carries no id of A's resources, nor A's project.
 */
function expectNothingOfA(res: request.Response) {
  if (res.status >= 400) {
    const [fault, ...more] = Object.keys(res.body ?? {});
    expect({ more, inner: Object.keys(res.body?.[fault!] ?? {}).sort() }).toEqual({
      more: [],
      inner: expect.arrayContaining(['code', 'message']),
    });
    return;
  }
  const text = res.text ?? '';
  for (const [what, id] of Object.entries({ ...a, project: PA })) {
    if (id) expect({ what, leaked: text.includes(id) }).toEqual({ what, leaked: false });
  }
}

/** 404 (not found in the caller's project) or 403 (the caller's role decides first), with the response on failure. */
function expectRefused(res: request.Response) {
  if (res.status !== 403 && res.status !== 404) throw new Error(`expected 403 or 404, got ${res.status} ${res.text}`);
}

const OPS = operations();

describe("project B on project A's resources", () => {
  it('the document has routes to try', () => expect(OPS.length).toBeGreaterThan(20));

  for (const op of OPS) {
    const named = /\{/.test(op.path);
    it(`${op.method.toUpperCase()} ${op.path} (${op.operationId}) as B's member → ${named ? '404/403' : "nothing of A's"}`, async () => {
      const res = await send(op.method, urlOf(op, PB), tok.bMember, bodyOf(op));
      expectNothingOfA(res);
      if (TRANSFER_ACCEPTS.has(op.operationId)) {
        expect({ status: res.status, message: res.body?.badRequest?.message }).toEqual({
          status: 400,
          message: `Invalid auth key: Attempt to transfer ${a.transfer} with invalid auth key.`,
        });
      } else if (
        named ||
        [
          'createAttachment',
          'createVolume',
          'createSnapshot',
          'createVolumeTransfersLegacy',
          'createVolumeTransfers',
          'createGroup',
          'createGroupFromSource',
          'createGroupSnapshot',
          'createBackup',
        ].includes(op.operationId)
      ) {
        expectRefused(res);
      } else {
        expect(res.status).toBeLessThan(500);
      }
      if (op.method === 'get' && !named) {
        // An admin's all_tenants is not a member's: the list stays B's own.
        expectNothingOfA(await send('get', `${urlOf(op, PB)}?all_tenants=1`, tok.bMember));
      }
    });

    it(`${op.method.toUpperCase()} ${op.path} (${op.operationId}) with A's project in the URL and B's token → 400 Malformed request url`, async () => {
      const res = await send(op.method, urlOf(op, PA), tok.bMember, bodyOf(op));
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { badRequest: { code: 400, message: 'Malformed request url' } },
      });
    });

    if (op.method !== 'get') {
      it(`${op.method.toUpperCase()} ${op.path} (${op.operationId}) as a reader, of B or of A itself → 403`, async () => {
        for (const [token, project] of [
          [tok.bReader, PB],
          [tok.aReader, PA],
        ] as const) {
          const res = await send(op.method, urlOf(op, project), token, bodyOf(op));
          expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: { forbidden: expect.anything() } });
        }
      });
    }
  }

  for (const [action, args] of Object.entries(ACTIONS)) {
    it(`volume action ${action} as B's member on A's volume → 404/403 (or 400 when cairn has no such action)`, async () => {
      const res = await send('post', `/v3/${PB}/volumes/${a.volume}/action`, tok.bMember, { [action]: args });
      expectNothingOfA(res);
      const unknown = res.status === 400 && res.body?.badRequest?.message?.startsWith(`There is no such action: ${action}.`);
      if (!unknown) expectRefused(res);
    });
  }

  it("a volume from A's snapshot or from A's volume (clone) as B's member → 404", async () => {
    for (const source of [{ snapshot_id: a.snapshot }, { source_volid: a.volume }]) {
      const res = await send('post', `/v3/${PB}/volumes`, tok.bMember, { volume: source });
      expectNothingOfA(res);
      expect(res.status).toBe(404);
    }
  });

  it("afterwards A's volume, type, metadata and quota are as they were", async () => {
    const vol = (await send('get', `/v3/${PA}/volumes/${a.volume}`, tok.aMember)).body.volume;
    expect(vol).toMatchObject({ name: 'a-vol', size: 1, metadata: { k: 'v' } });
    const type = (await send('get', `/v3/${PADMIN}/types/${a.type}`, tok.admin)).body.volume_type;
    expect(type).toMatchObject({ name: 'a-private', is_public: false, extra_specs: { 'scope:k': 'v' } });
    expect((await send('get', `/v3/${PADMIN}/types/${a.type}/os-volume-type-access`, tok.admin)).body.volume_type_access).toEqual([
      { volume_type_id: a.type, project_id: PA },
    ]);
    expect((await send('get', `/v3/${PA}/os-quota-sets/${PA}`, tok.aMember)).body.quota_set.volumes).toBe(7);
    expect((await send('get', `/v3/${PA}/volumes`, tok.aMember)).body.volumes.map((v: any) => v.id)).toContain(a.volume);
    expect((await send('get', `/v3/${PA}/messages/${a.message}`, tok.aMember)).status).toBe(200);
    const snap = (await send('get', `/v3/${PA}/snapshots/${a.snapshot}`, tok.aMember)).body.snapshot;
    expect(snap).toMatchObject({ name: 'a-snap', status: 'available', metadata: { k: 'v' } });
    expect((await send('get', `/v3/${PA}/groups/${a.group}`, tok.aMember)).body.group).toMatchObject({
      name: 'a-group',
      status: 'available',
      volume_types: [a.type],
    });
    expect((await send('get', `/v3/${PA}/group_snapshots/${a.groupSnapshot}`, tok.aMember)).body.group_snapshot).toMatchObject({
      name: 'a-gs',
      status: 'available',
    });
    expect((await send('get', `/v3/${PADMIN}/group_types/${a.groupType}`, tok.admin)).body.group_type).toMatchObject({
      name: 'a-gt-private',
      group_specs: { k: 'v' },
    });
    expect((await send('get', `/v3/${PA}/backups/${a.backup}`, tok.aMember)).body.backup).toMatchObject({
      name: 'a-backup',
      status: 'available',
    });
  });
});

// --- the compute API (api-spec/compute.yaml) -------------------------------------

/** Compute path parameters: A's server, its attached volume, A's project; flavors and quota classes are nobody's. */
const COMPUTE_PARAMS: Record<string, () => string> = {
  server_id: () => a.server,
  volume_id: () => a.serverVolume,
  flavor_id: () => '1',
  project_id: () => PA,
  class_name: () => 'default',
  network_label: () => 'private',
  request_id: () => a.action,
  keypair_name: () => a.keypair,
  tenant_id: () => PA,
  snapshot_id: () => a.snapshot,
};

const COMPUTE_BODIES: Record<string, () => unknown> = {
  // Booting from A's volume: Nova answers a boot volume it cannot find with 400 on create (InvalidBDMVolume).
  createServer: () => ({
    server: {
      name: 'b-srv',
      flavorRef: '1',
      networks: 'none',
      block_device_mapping_v2: [{ source_type: 'volume', destination_type: 'volume', uuid: a.serverVolume, boot_index: 0 }],
    },
  }),
  updateServer: () => ({ server: { name: 'stolen' } }),
  serverAction: () => ({ 'os-stop': null }),
  attachVolume: () => ({ volumeAttachment: { volumeId: a.volume } }),
  updateVolumeAttachment: () => ({ volumeAttachment: { volumeId: a.serverVolume, delete_on_termination: false } }),
  updateComputeQuotaSet: () => ({ quota_set: { instances: 100 } }),
  updateComputeQuotaClassSet: () => ({ quota_class_set: { instances: 100 } }),
  createKeypair: () => ({ keypair: { name: 'b-key' } }),
  // The deprecated proxies: a volume from A's snapshot, a snapshot of A's volume (both 404 to B).
  createProxyVolume: () => ({ volume: { size: 1, snapshot_id: a.snapshot } }),
  createProxySnapshot: () => ({ snapshot: { volume_id: a.volume } }),
};

/** Operations on things no project owns: public flavors, and the quota defaults anyone may read (Nova's RULE_ANY). */
const SHARED_OPS = new Set(['showFlavor', 'listFlavorExtraSpecs', 'showComputeQuotaSetDefaults']);

function computeUrlOf(op: Op, project: string | undefined): string {
  return `/v2.1${project ? `/${project}` : ''}${op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const fixture = COMPUTE_PARAMS[name];
    if (!fixture) throw new Error(`no fixture for path parameter {${name}} of ${op.operationId}: add one to COMPUTE_PARAMS`);
    const v = fixture();
    if (!v) throw new Error(`the fixture for {${name}} was not created (see beforeAll)`);
    return encodeURIComponent(v);
  })}`;
}

function computeBodyOf(op: Op): unknown {
  if (!op.hasBody) return undefined;
  const fixture = COMPUTE_BODIES[op.operationId];
  if (!fixture) throw new Error(`no body fixture for ${op.operationId}: add one to COMPUTE_BODIES`);
  return fixture();
}

const COMPUTE_OPS = operations(loadComputeApi());

describe("project B on project A's resources, through the compute API", () => {
  it('the document has routes to try, the quota ones among them', () => {
    expect(COMPUTE_OPS.map((o) => o.operationId)).toEqual(
      expect.arrayContaining([
        'showServer',
        'attachVolume',
        'showComputeLimits',
        'showComputeQuotaSet',
        'updateComputeQuotaSet',
        'showComputeQuotaClassSet',
      ]),
    );
  });

  for (const op of COMPUTE_OPS) {
    const named = /\{/.test(op.path) && !SHARED_OPS.has(op.operationId);
    for (const project of [PB, undefined]) {
      const where = project ? '/v2.1/{B}' : '/v2.1';
      it(`${op.method.toUpperCase()} ${where}${op.path} (${op.operationId}) as B's member → ${named ? '404/403' : "nothing of A's"}`, async () => {
        const res = await send(op.method, computeUrlOf(op, project), tok.bMember, computeBodyOf(op));
        if (op.operationId === 'showComputeQuotaSetDefaults') {
          // The defaults echo the id asked about, and are not A's own limits (A's instances quota is 7).
          expect(res.status).toBe(200);
          expect(res.body.quota_set).toMatchObject({ id: PA, instances: 10 });
          return;
        }
        expectNothingOfA(res);
        if (op.operationId === 'createServer') {
          expect({ status: res.status, message: res.body?.badRequest?.message }).toEqual({
            status: 400,
            message: `Block Device Mapping is Invalid: failed to get volume ${a.serverVolume}.`,
          });
        } else if (named) {
          expectRefused(res);
        } else {
          expect(res.status).toBeLessThan(500);
        }
        if (op.method === 'get' && !named) {
          expectNothingOfA(await send('get', `${computeUrlOf(op, project)}?all_tenants=1`, tok.bMember));
        }
      });
    }

    it(`${op.method.toUpperCase()} /v2.1/{A}${op.path} (${op.operationId}) with B's token → 400 Malformed request URL`, async () => {
      const res = await send(op.method, computeUrlOf(op, PA), tok.bMember, computeBodyOf(op));
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: {
          badRequest: { code: 400, message: `Malformed request URL: URL's project_id '${PA}' doesn't match Context's project_id '${PB}'` },
        },
      });
    });

    if (op.method !== 'get') {
      it(`${op.method.toUpperCase()} /v2.1${op.path} (${op.operationId}) as a reader, of B or of A itself → 403`, async () => {
        for (const token of [tok.bReader, tok.aReader]) {
          const res = await send(op.method, computeUrlOf(op, undefined), token, computeBodyOf(op));
          expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: { forbidden: expect.anything() } });
        }
      });
    }
  }

  for (const action of ['os-stop', 'os-start']) {
    it(`server action ${action} as B's member on A's server → 404`, async () => {
      const res = await send('post', `/v2.1/servers/${a.server}/action`, tok.bMember, { [action]: null });
      expectNothingOfA(res);
      expect(res.status).toBe(404);
    });
  }

  it("B's own server cannot take A's volumes (attach → 404); A's limits are refused (403), B's own count only B's", async () => {
    const srv = await send('post', `/v2.1/${PB}/servers`, tok.bMember, {
      server: {
        name: 'b-srv',
        flavorRef: '1',
        networks: 'none',
        block_device_mapping_v2: [
          { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true },
        ],
      },
    });
    expect(srv.status).toBe(202);
    const mine = srv.body.server.id;
    await waitFor(async () => (await send('get', `/v2.1/servers/${mine}`, tok.bMember)).body.server.status === 'ACTIVE', 20_000);
    for (const volumeId of [a.volume, a.serverVolume]) {
      const res = await send('post', `/v2.1/servers/${mine}/os-volume_attachments`, tok.bMember, { volumeAttachment: { volumeId } });
      expectNothingOfA(res);
      expect(res.status).toBe(404);
    }
    const limits = await send('get', `/v2.1/limits?tenant_id=${PA}`, tok.bMember);
    expect(limits.status).toBe(403);
    // B's figures are B's: its one server, not A's.
    const own = await send('get', '/v2.1/limits', tok.bMember);
    expect(own.body.limits.absolute).toMatchObject({ totalInstancesUsed: 1, maxTotalInstances: 10 });
    expect((await send('delete', `/v2.1/servers/${mine}`, tok.bMember)).status).toBe(204);
  }, 60_000);

  it("afterwards A's server, its volume attachment and A's compute quota are as they were", async () => {
    const srv = (await send('get', `/v2.1/servers/${a.server}`, tok.aMember)).body.server;
    expect(srv).toMatchObject({ id: a.server, name: 'a-srv', status: 'ACTIVE', metadata: { k: 'v' } });
    const atts = (await send('get', `/v2.1/servers/${a.server}/os-volume_attachments`, tok.aMember)).body.volumeAttachments;
    expect(atts).toEqual([expect.objectContaining({ volumeId: a.serverVolume, delete_on_termination: true })]);
    expect((await send('get', `/v2.1/os-quota-sets/${PA}`, tok.aMember)).body.quota_set.instances).toBe(7);
    expect((await send('get', '/v2.1/os-quota-class-sets/default', tok.admin)).body.quota_class_set.instances).toBe(10);
    expect((await send('get', '/v2.1/limits', tok.aMember)).body.limits.absolute).toMatchObject({
      totalInstancesUsed: 1,
      maxTotalInstances: 7,
    });
  });
});
