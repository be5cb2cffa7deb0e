/**
 * Project isolation, route by route: every operation of api-spec/openapi.yaml
 * is tried with project B's tokens on project A's resources (Keystone auth
 * against the in-process fake, roles per token). A route naming one of A's
 * resources must answer 404 (or 403 where the caller's role decides first);
 * a list must not show any of A's; nothing of A's may change.
 *
 * A new route whose path parameter or body this file has no fixture for
 * fails here, so that it is tried too: add it to PARAMS or BODIES.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { loadOpenApi } from '../../src/app';
import { FakeKeystone } from '../helpers/fakeKeystone';
import { startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

const PA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const PADMIN = 'cccccccccccccccccccccccccccccccc';
const MV = { 'OpenStack-API-Version': 'volume 3.70' };

let ks: FakeKeystone;
let cairn: TestCairn;
const tok: Record<'aMember' | 'aReader' | 'bMember' | 'bReader' | 'admin', string> = {} as any;
/** A's resources, filled in beforeAll. */
const a = { volume: '', type: '', attachment: '', snapshot: '', message: '' };

const api = () => request(cairn.url);
const send = (method: string, url: string, token: string, body?: unknown) => {
  const req = (api() as any)[method](url).set({ ...MV, 'X-Auth-Token': token }) as request.Test;
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
  const type = await send('post', `/v3/${PADMIN}/types`, tok.admin, { volume_type: { name: 'a-private', is_public: false, extra_specs: { 'scope:k': 'v' } } });
  a.type = type.body.volume_type.id;
  expect((await send('post', `/v3/${PADMIN}/types/${a.type}/action`, tok.admin, { addProjectAccess: { project: PA } })).status).toBe(202);
  // A's volume of that type, with metadata, available, and attached.
  const vol = await send('post', `/v3/${PA}/volumes`, tok.aMember, { volume: { size: 1, name: 'a-vol', volume_type: a.type, metadata: { k: 'v' } } });
  expect(vol.status).toBe(202);
  a.volume = vol.body.volume.id;
  await waitFor(async () => (await send('get', `/v3/${PA}/volumes/${a.volume}`, tok.aMember)).body.volume.status === 'available');
  // A's snapshot of it, with metadata, available (taken before the attachment reserves the volume).
  const snap = await send('post', `/v3/${PA}/snapshots`, tok.aMember, { snapshot: { volume_id: a.volume, name: 'a-snap', metadata: { k: 'v' } } });
  expect(snap.status).toBe(202);
  a.snapshot = snap.body.snapshot.id;
  await waitFor(async () => (await send('get', `/v3/${PA}/snapshots/${a.snapshot}`, tok.aMember)).body.snapshot.status === 'available');
  // A user message of A's: a volume of a type no backend serves fails at once and records one.
  const nowhere = await send('post', `/v3/${PADMIN}/types`, tok.admin, { volume_type: { name: 'nowhere', extra_specs: { volume_backend_name: 'nowhere' } } });
  await send('post', `/v3/${PA}/volumes`, tok.aMember, { volume: { size: 1, volume_type: nowhere.body.volume_type.id } });
  a.message = (await send('get', `/v3/${PA}/messages`, tok.aMember)).body?.messages?.[0]?.id ?? '';
  const att = await send('post', `/v3/${PA}/attachments`, tok.aMember, { attachment: { volume_uuid: a.volume, instance_uuid: randomUUID() } });
  a.attachment = att.body?.attachment?.id ?? '';
  expect((await send('put', `/v3/${PADMIN}/os-quota-sets/${PA}`, tok.admin, { quota_set: { volumes: 7 } })).status).toBe(200);
});
afterAll(async () => { await cairn?.stop(); await ks?.stop(); });

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
};

/** Every volume action cairn may know; one it does not know is a 400 naming it, which reveals nothing either. */
const ACTIONS: Record<string, unknown> = {
  'os-extend': { new_size: 2 }, 'os-reset_status': { status: 'error' }, 'os-set_bootable': { bootable: true },
  'os-update_readonly_flag': { readonly: true }, 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' },
  'os-detach': {}, 'os-reserve': {}, 'os-unreserve': {}, 'os-begin_detaching': {}, 'os-roll_detaching': {},
  'os-initialize_connection': { connector: { host: 'h' } }, 'os-terminate_connection': { connector: { host: 'h' } },
  'os-force_detach': {}, 'os-force_delete': {}, 'os-retype': { new_type: 'x' }, 'os-set_image_metadata': { metadata: { a: 'b' } },
  'os-unset_image_metadata': { key: 'a' }, 'os-show_image_metadata': {}, 'os-volume_upload_image': { image_name: 'i' },
  revert: { snapshot_id: randomUUID() }, 'os-migrate_volume': { host: 'h' }, 'os-unmanage': {}, 'os-reimage': { image_id: randomUUID() },
};

interface Op { method: string; path: string; operationId: string; hasBody: boolean }

function operations(): Op[] {
  const doc = loadOpenApi() as any;
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
    expect({ more, inner: Object.keys(res.body?.[fault!] ?? {}).sort() }).toEqual({ more: [], inner: expect.arrayContaining(['code', 'message']) });
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

describe('project B on project A\'s resources', () => {
  it('the document has routes to try', () => expect(OPS.length).toBeGreaterThan(20));

  for (const op of OPS) {
    const named = /\{/.test(op.path);
    it(`${op.method.toUpperCase()} ${op.path} (${op.operationId}) as B's member → ${named ? '404/403' : 'nothing of A\'s'}`, async () => {
      const res = await send(op.method, urlOf(op, PB), tok.bMember, bodyOf(op));
      expectNothingOfA(res);
      if (named || op.operationId === 'createAttachment' || op.operationId === 'createVolume' || op.operationId === 'createSnapshot') {
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
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { badRequest: { code: 400, message: 'Malformed request url' } } });
    });

    if (op.method !== 'get') {
      it(`${op.method.toUpperCase()} ${op.path} (${op.operationId}) as a reader, of B or of A itself → 403`, async () => {
        for (const [token, project] of [[tok.bReader, PB], [tok.aReader, PA]] as const) {
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

  it('a volume from A\'s snapshot or from A\'s volume (clone) as B\'s member → 404', async () => {
    for (const source of [{ snapshot_id: a.snapshot }, { source_volid: a.volume }]) {
      const res = await send('post', `/v3/${PB}/volumes`, tok.bMember, { volume: source });
      expectNothingOfA(res);
      expect(res.status).toBe(404);
    }
  });

  it('afterwards A\'s volume, type, metadata and quota are as they were', async () => {
    const vol = (await send('get', `/v3/${PA}/volumes/${a.volume}`, tok.aMember)).body.volume;
    expect(vol).toMatchObject({ name: 'a-vol', size: 1, metadata: { k: 'v' } });
    const type = (await send('get', `/v3/${PADMIN}/types/${a.type}`, tok.admin)).body.volume_type;
    expect(type).toMatchObject({ name: 'a-private', is_public: false, extra_specs: { 'scope:k': 'v' } });
    expect((await send('get', `/v3/${PADMIN}/types/${a.type}/os-volume-type-access`, tok.admin)).body.volume_type_access)
      .toEqual([{ volume_type_id: a.type, project_id: PA }]);
    expect((await send('get', `/v3/${PA}/os-quota-sets/${PA}`, tok.aMember)).body.quota_set.volumes).toBe(7);
    expect((await send('get', `/v3/${PA}/volumes`, tok.aMember)).body.volumes.map((v: any) => v.id)).toContain(a.volume);
    expect((await send('get', `/v3/${PA}/messages/${a.message}`, tok.aMember)).status).toBe(200);
    const snap = (await send('get', `/v3/${PA}/snapshots/${a.snapshot}`, tok.aMember)).body.snapshot;
    expect(snap).toMatchObject({ name: 'a-snap', status: 'available', metadata: { k: 'v' } });
  });
});
