/**
 * Contract test: cairn against the exchanges recorded from a real Cinder 21
 * (noauth, every caller admin) in test/fixtures/cinder-21-live/.
 *
 * Each exchange is replayed against an in-process cairn in the order the
 * capture ran them (INDEX.md), after setting up the state it refers to; the
 * recorded ids are mapped to cairn's. Compared: the status; the body's shape
 * (`shapeDiff`: the same keys at every level, the same JSON types, arrays by
 * their first element) plus the values that are part of the contract (fault
 * codes and messages, `status`, `bootable`, `volume_type`, versions); the
 * `OpenStack-API-Version` and `Vary` headers; the request id's format.
 *
 * Not replayed yet, because cairn does not have the feature (the issue that brings it):
 * - volume actions (`volumes_action_*`, `volumes_show_after_extend`, `error_extend_*`,
 *   `error_unknown_action`) — volume actions issue;
 * - snapshots (`snapshots_*`, `volumes_create_from_snapshot`, `volumes_show_from_snapshot`,
 *   `error_snapshot_not_found`, `error_delete_volume_with_snapshot`) — snapshots issue;
 * - clones (`volumes_create_clone`) — snapshots/clone issue;
 * - attachments (`attachments_*`, `volumes_show_reserved`, `volumes_show_in_use`,
 *   `error_attachment*`, `error_attachments_*`) — attachments issue;
 * - quotas (`quota_*`, `error_over_quota_*`, `error_quota_set_below_usage`) — quotas issue;
 * - backups (`backups_*`, `error_backups_*`) — backups issue;
 * - Keystone (`keystone_*`) — issue #5;
 * - messages, qos-specs, scheduler-stats, extensions: outside this acceptance.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { PROJECT, TOKEN, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

const REF_DIR = path.resolve(__dirname, '../fixtures/cinder-21-live');
if (!fs.existsSync(path.join(REF_DIR, 'INDEX.md'))) {
  throw new Error(`contract test: the recorded Cinder exchanges are missing: ${REF_DIR} `);
}

// --- shape comparison ---------------------------------------------------------

type Kind = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'undefined';
const kindOf = (v: unknown): Kind => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as Kind));

/**
 * The differences between two JSON values' shapes: key sets (exact) at every
 * object level, JSON types, arrays by their first element (and empty versus
 * not). Values are compared only under the keys in `exact`.
 */
function shapeDiff(expected: unknown, actual: unknown, at = '$', exact: ReadonlySet<string> = new Set()): string[] {
  const ek = kindOf(expected);
  const ak = kindOf(actual);
  if (ek !== ak) return [`${at}: expected ${ek}, got ${ak}`];
  if (ek === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if ((e.length === 0) !== (a.length === 0))
      return [`${at}: expected ${e.length ? 'a non-empty' : 'an empty'} array, got ${a.length} items`];
    return e.length ? shapeDiff(e[0], a[0], `${at}[0]`, exact) : [];
  }
  if (ek !== 'object') return [];
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(e)) if (!(k in a)) out.push(`${at}.${k}: missing`);
  for (const k of Object.keys(a)) if (!(k in e)) out.push(`${at}.${k}: unexpected`);
  for (const k of Object.keys(e)) {
    if (!(k in a)) continue;
    const sub = shapeDiff(e[k], a[k], `${at}.${k}`, exact);
    out.push(...sub);
    if (!sub.length && exact.has(k) && kindOf(e[k]) !== 'object' && kindOf(e[k]) !== 'array' && e[k] !== a[k]) {
      out.push(`${at}.${k}: expected ${JSON.stringify(e[k])}, got ${JSON.stringify(a[k])}`);
    }
  }
  return out;
}

/** Values the contract fixes (everything else — ids, times, hosts, hrefs — is volatile). */
const EXACT = new Set(['status', 'bootable', 'volume_type', 'version', 'min_version', 'code', 'message', 'title']);

describe('shapeDiff', () => {
  it('finds missing and extra keys, type changes, nested array elements and exact values', () => {
    expect(shapeDiff({ a: 1, b: 'x', c: [{ d: null }] }, { a: '1', c: [{ d: 'y', e: 1 }], f: true }, '$', new Set())).toEqual([
      '$.b: missing',
      '$.f: unexpected',
      '$.a: expected number, got string',
      '$.c[0].e: unexpected',
      '$.c[0].d: expected null, got string',
    ]);
    expect(shapeDiff({ v: { status: 'available', id: 'a' } }, { v: { status: 'error', id: 'b' } }, '$', EXACT)).toEqual([
      '$.v.status: expected "available", got "error"',
    ]);
    expect(shapeDiff({ l: [1] }, { l: [] })).toEqual(['$.l: expected a non-empty array, got 0 items']);
  });

  it('accepts the same shape with other volatile values', () => {
    expect(
      shapeDiff({ id: 'a', n: 1, l: [{ x: true }], m: [] }, { id: 'b', n: 2, l: [{ x: false }, { y: 1 }], m: [] }, '$', EXACT),
    ).toEqual([]);
  });
});

// --- replay -------------------------------------------------------------------

interface Exchange {
  name: string;
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; headers: Record<string, string>; body: unknown };
}

const load = (name: string): Exchange => JSON.parse(fs.readFileSync(path.join(REF_DIR, `${name}.json`), 'utf8'));

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** The id the recording uses for "no such thing": kept as is. */
const MISSING_ID = '53fce896-4deb-4115-8c06-063316a7e2ca';
/** The Cinder that was recorded. */
const CINDER_ORIGIN = 'http://127.0.0.1:8786';

let cairn: TestCairn;
const api = () => request(cairn.url);
const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };
const v3 = (p: string) => `/v3/${PROJECT}${p}`;

/** Recorded id → cairn's id, learnt from the create exchanges replayed so far. */
const learnt = new Map<string, string>();

const substitute = (v: unknown, ids: ReadonlyMap<string, string>): unknown => {
  if (typeof v === 'string') return v.replace(UUID_G, (m) => ids.get(m) ?? m);
  if (Array.isArray(v)) return v.map((x) => substitute(x, ids));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, ids)]));
  return v;
};

const header = (h: Record<string, unknown>, name: string): string | undefined => {
  const k = Object.keys(h).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : String(h[k]);
};

interface ReplayOpts {
  /** cairn's id for the recorded path's id, when no replayed create taught it. */
  subject?: string;
  /** A difference that stays, keyed by shapeDiff's exact text, with the reason. */
  except?: Record<string, string>;
  /** Rewrites both bodies before comparing (a documented normalisation). */
  normalise?: (body: any) => unknown;
}

/** Replays one recorded exchange against cairn and checks it; returns cairn's response. */
async function replay(name: string, opts: ReplayOpts = {}): Promise<request.Response> {
  const x = load(name);
  const ids = new Map(learnt);
  for (const id of x.request.path.match(UUID_G) ?? []) {
    if (id === MISSING_ID) continue;
    if (opts.subject) ids.set(id, opts.subject);
    else if (!ids.has(id)) throw new Error(`${name}: no cairn id for the recorded ${id}; pass a subject`);
  }
  // The recorded caller's project in the path becomes cairn's test project (the token is cairn's TOKEN).
  const recordedProject = header(x.request.headers, 'x-auth-token')?.split(':')[1];
  let url = x.request.path.replace(UUID_G, (m) => ids.get(m) ?? m);
  if (recordedProject) url = url.split(`/v3/${recordedProject}/`).join(`/v3/${PROJECT}/`);

  let req = (api() as any)[x.request.method.toLowerCase()](url) as request.Test;
  const mv = header(x.request.headers, 'openstack-api-version');
  if (mv !== undefined) req = req.set('OpenStack-API-Version', mv);
  if (header(x.request.headers, 'x-auth-token') !== undefined) req = req.set('X-Auth-Token', TOKEN);
  if (x.request.body !== null && x.request.body !== undefined) {
    req = req.set('Content-Type', header(x.request.headers, 'content-type') ?? 'application/json');
    req = req.send(typeof x.request.body === 'string' ? x.request.body : (substitute(x.request.body, ids) as object));
  }
  const res = await req;

  const problems: string[] = [];
  if (res.status !== x.response.status) problems.push(`status: expected ${x.response.status}, got ${res.status}`);
  for (const h of ['OpenStack-API-Version', 'Vary']) {
    const want = header(x.response.headers, h);
    const got = header(res.headers, h);
    if (want?.toLowerCase() !== got?.toLowerCase()) problems.push(`header ${h}: expected ${want ?? '(absent)'}, got ${got ?? '(absent)'}`);
  }
  if (!/^req-[0-9a-f-]{36}$/.test(header(res.headers, 'x-openstack-request-id') ?? ''))
    problems.push('header x-openstack-request-id: not req-<uuid>');

  const recorded = x.response.body;
  if (recorded === '' || recorded === null) {
    if (res.text !== '' && res.text !== undefined) problems.push(`body: expected none, got ${res.text}`);
  } else {
    const norm = opts.normalise ?? ((b: unknown) => b);
    const expected = norm(substitute(recorded, ids));
    const diffs = shapeDiff(expected, norm(res.body), '$', EXACT);
    const unused = new Set(Object.keys(opts.except ?? {}));
    for (const d of diffs) {
      if (opts.except && d in opts.except) unused.delete(d);
      else problems.push(d);
    }
    for (const d of unused) problems.push(`exception no longer needed (cairn now matches): ${d}`);
  }
  // Learn the ids a create made (even if it differs, so that one difference does not fail every later exchange).
  const rb = recorded as any;
  for (const key of ['volume', 'volume_type']) {
    if (rb && typeof rb === 'object' && rb[key]?.id && res.body?.[key]?.id) learnt.set(rb[key].id, res.body[key].id);
  }
  if (problems.length) {
    throw new Error(
      `${name}: cairn differs from Cinder 21\n  ${problems.join('\n  ')}\n  cairn said: ${res.status} ${res.text?.slice(0, 2000)}`,
    );
  }
  return res;
}

const volumeOf = async (id: string) =>
  (
    await api()
      .get(v3(`/volumes/${id}`))
      .set(MV)
  ).body.volume;
const untilStatus = (id: string, status: string) =>
  waitFor(async () => (await volumeOf(id))?.status === status, 15_000, `volume ${id} ${status}`);
/** cairn's id for an id of the recording (learnt from the replayed create). */
const cairnId = (recorded: string) => {
  const id = learnt.get(recorded);
  if (!id) throw new Error(`the create exchange that makes ${recorded} did not pass`);
  return id;
};
const recordedId = (name: string, key: 'volume' | 'volume_type') => (load(name).response.body as any)[key].id as string;

// --- the exchanges, in the order the capture ran them -------------------------

const title = (name: string) => `${name}: status, keys and types as Cinder 21`;

describe('cairn answers as the recorded Cinder 21 exchanges', () => {
  beforeAll(async () => {
    cairn = await startTestCairn({
      // The recorded Cinder's backend is "fake" and the recorded types name it in volume_backend_name.
      CAIRN_BACKENDS: 'fake',
      // Holds a new volume in "creating" long enough to replay volumes_show_creating.
      CAIRN_FAULT_DRIVER_DELAY_MS: '300',
    });
  });
  afterAll(async () => {
    await cairn?.stop();
  });

  describe('versions and info', () => {
    for (const name of ['versions_root', 'versions_v3', 'versions_v3_with_mv']) {
      it(title(name), async () => {
        const res = await replay(name);
        // The versions document is compared entirely, but for the server's own host in hrefs.
        const recorded = JSON.parse(JSON.stringify(load(name).response.body).split(CINDER_ORIGIN).join(cairn.url));
        expect(res.body).toEqual(recorded);
      });
    }

    it(title('noauth_no_token'), async () => {
      const res = await replay('noauth_no_token');
      expect(res.headers['x-auth-token']).toBe('admin:admin');
    });

    it(title('limits'), () => replay('limits'));
    it(title('availability_zones'), () => replay('availability_zones'));
    it(title('services_list'), () =>
      replay('services_list', {
        // One service per binary, compared by binary: the scheduler and the volume service have different keys.
        // The recorded Cinder ran no cinder-backup; cairn's (the all-in-one's backup service) has the scheduler's keys.
        normalise: (b) => ({
          services: Object.fromEntries(
            [...b.services]
              .reverse()
              .map((s: any) => (s.binary === 'cinder-backup' ? { ...s, binary: 'cinder-scheduler' } : s))
              .map((s: any) => [s.binary, s]),
          ),
        }),
      }),
    );
  });

  describe('volume types', () => {
    it(title('types_list'), async () => {
      // The recorded Cinder already had types besides __DEFAULT__ (extra specs included): make them too.
      for (const t of (load('types_list').response.body as any).volume_types) {
        if (t.name === '__DEFAULT__') continue;
        const res = await api()
          .post(v3('/types'))
          .set(MV)
          .send({
            volume_type: {
              name: t.name,
              description: t.description,
              is_public: t.is_public,
              extra_specs: t.extra_specs,
            },
          });
        expect(res.status).toBe(200);
      }
      await replay('types_list');
    });
    it(title('types_default'), () => replay('types_default'));
    it(title('types_create'), () => replay('types_create'));
    it(title('types_show'), () => replay('types_show'));
    it(title('types_update'), () => replay('types_update'));
    for (const name of [
      'types_extra_specs_create',
      'types_extra_specs_list',
      'types_extra_specs_show',
      'types_extra_specs_update_key',
      'types_extra_specs_delete',
    ]) {
      it(title(name), () => replay(name, { subject: cairnId(recordedId('types_create', 'volume_type')) }));
    }
    it(title('types_create_multiattach'), () => replay('types_create_multiattach'));
    it(title('types_create_private'), () => replay('types_create_private'));
    it(title('types_add_project_access'), () =>
      replay('types_add_project_access', { subject: cairnId(recordedId('types_create_private', 'volume_type')) }),
    );
    it(title('types_access_list'), () =>
      replay('types_access_list', { subject: cairnId(recordedId('types_create_private', 'volume_type')) }),
    );
    it(title('types_list_is_public_none'), () => replay('types_list_is_public_none'));
  });

  describe('volumes', () => {
    const sample = () => cairnId(recordedId('volumes_create', 'volume'));
    const minimal = () => cairnId(recordedId('volumes_create_minimal', 'volume'));

    it(title('volumes_create'), () => replay('volumes_create'));
    it(title('volumes_show_creating'), () =>
      replay('volumes_show_creating', {
        subject: sample(),
        except: {
          // cairn's API schedules the volume when it accepts it, so the host is known while it is
          // creating; Cinder's scheduler sets it moments later (also while "creating").
          '$.volume.os-vol-host-attr:host: expected null, got string': 'cairn schedules synchronously',
        },
      }),
    );
    it(title('volumes_show'), async () => {
      await untilStatus(sample(), 'available');
      await replay('volumes_show', { subject: sample() });
    });
    it(title('volumes_show_mv30'), () => replay('volumes_show_mv30', { subject: sample() }));
    it(title('volumes_show_no_mv_header'), () => replay('volumes_show_no_mv_header', { subject: sample() }));
    it(title('volumes_create_minimal'), async () => {
      await replay('volumes_create_minimal');
      await untilStatus(minimal(), 'available');
    });
    it(title('volumes_list'), () => replay('volumes_list'));
    it(title('volumes_detail'), () => replay('volumes_detail'));
    it(title('volumes_detail_limit1'), () => replay('volumes_detail_limit1'));
    it(title('volumes_list_sorted'), () =>
      replay('volumes_list_sorted', {
        except: {
          // sort=name:asc puts the unnamed volume first in cairn, last in the recording. Where NULL sorts is the
          // database's choice in Cinder (first on MySQL and SQLite, last on PostgreSQL); cairn sorts a NULL name
          // as '' so that keyset pagination has a total order.
          '$.volumes[0].name: expected string, got null': 'NULL names sort first',
        },
      }),
    );
    it(title('volumes_list_filter_name'), () => replay('volumes_list_filter_name'));
    it(title('volumes_list_with_count'), () => replay('volumes_list_with_count'));
    it(title('volumes_summary'), () => replay('volumes_summary'));
    it(title('volumes_update'), () => replay('volumes_update', { subject: sample() }));
    for (const name of [
      'volumes_metadata_list',
      'volumes_metadata_create',
      'volumes_metadata_replace',
      'volumes_metadata_show_key',
      'volumes_metadata_update_key',
      'volumes_metadata_delete_key',
    ]) {
      it(title(name), () => replay(name, { subject: sample() }));
    }
    it(title('volumes_create_multiattach'), () => replay('volumes_create_multiattach'));
    it(title('volumes_show_multiattach'), async () => {
      const id = cairnId(recordedId('volumes_create_multiattach', 'volume'));
      await untilStatus(id, 'available');
      await replay('volumes_show_multiattach', { subject: id });
    });
  });

  describe('errors', () => {
    for (const name of [
      'error_volume_not_found',
      'error_volume_not_found_non_uuid',
      'error_volume_delete_not_found',
      'error_type_not_found',
      'error_create_size_zero',
      'error_create_size_negative',
      'error_create_size_string',
      'error_create_size_float',
      'error_create_no_size',
      'error_create_missing_volume_key',
      'error_create_unknown_type',
      'error_create_malformed_json',
      'error_create_additional_property',
      'error_microversion_too_high',
      'error_microversion_invalid',
      'error_microversion_major_2',
      'error_microversion_latest',
      'error_unknown_route',
      'error_project_id_not_hex',
      'error_limit_invalid',
      'error_marker_not_found',
      'error_sort_key_invalid',
    ]) {
      it(title(name), () => replay(name));
    }
    for (const name of ['error_update_name_too_long', 'error_method_not_allowed']) {
      it(title(name), () => replay(name, { subject: cairnId(recordedId('volumes_create', 'volume')) }));
    }
    it(title('error_types_duplicate_name'), async () => {
      // The type the recording collides with (captured in another run) must exist first.
      const { name } = (load('error_types_duplicate_name').request.body as any).volume_type;
      const existing = (await api().get(v3('/types?is_public=None')).set(MV)).body.volume_types.some((t: any) => t.name === name);
      if (!existing) expect((await api().post(v3('/types')).set(MV).send({ volume_type: { name } })).status).toBe(200);
      await replay('error_types_duplicate_name');
    });
  });

  describe('deletes', () => {
    let doomed: string;
    it(title('volumes_delete'), async () => {
      doomed = (
        await api()
          .post(v3('/volumes'))
          .set(MV)
          .send({ volume: { size: 1, name: 'doomed' } })
      ).body.volume.id;
      await untilStatus(doomed, 'available');
      await replay('volumes_delete', { subject: doomed });
    });
    it(title('volumes_show_after_delete'), async () => {
      await waitFor(
        async () =>
          (
            await api()
              .get(v3(`/volumes/${doomed}`))
              .set(MV)
          ).status === 404,
        15_000,
        'volume gone',
      );
      await replay('volumes_show_after_delete', { subject: doomed });
    });
    it(title('types_access_remove'), () =>
      replay('types_access_remove', { subject: cairnId(recordedId('types_create_private', 'volume_type')) }),
    );
    it(title('types_delete'), async () => {
      const t = (
        await api()
          .post(v3('/types'))
          .set(MV)
          .send({ volume_type: { name: 'doomed-type' } })
      ).body.volume_type;
      await replay('types_delete', { subject: t.id });
    });
  });
});
