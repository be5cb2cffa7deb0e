/**
 * Issue 14's 500s, each at its root: NUL characters, deep bodies, malformed
 * percent-escapes, prototype-named actions and sort keys, null where Cinder
 * wants an object, ids the uuid columns cannot cast, numbers beyond 2^53;
 * PostgreSQL's data exceptions answered without SQL; logs without
 * statements or bind values.
 */
import { Writable } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { startRuntime, type Runtime } from '../../src/runtime';
import { PROJECT, TOKEN } from '../helpers/cairn';

let rt: Runtime;
let dataDir: string;
const logLines: string[] = [];
beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-hard-'));
  const config = loadConfig({
    CAIRN_DATA_DIR: dataDir,
    DATABASE_URL: 'pglite://memory',
    PORT: '0',
    HOST: '127.0.0.1',
    CAIRN_HOSTNAME: 'testhost',
  });
  const sink = new Writable({
    write(chunk, _e, cb) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  rt = await startRuntime(
    config,
    { api: true, workerBackends: config.backends.map((b) => b.name), migrate: true },
    pino({ level: 'info' }, sink),
  );
});
afterAll(async () => {
  await rt.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const H = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70', 'Content-Type': 'application/json', Accept: 'application/json' };
const v3 = (p: string) => `/v3/${PROJECT}${p}`;
const v21 = (p: string) => `/v2.1/${PROJECT}${p}`;
const ID = '11111111-1111-1111-1111-111111111111';
const call = (m: string, p: string, body?: string) => {
  const req = request(rt.url!)[m.toLowerCase() as 'get'](p).set(H);
  return body === undefined ? req : req.send(body);
};
const fault = (res: request.Response, code: number, message?: string | RegExp) => {
  expect(res.status).toBe(code);
  const key = Object.keys(res.body)[0]!;
  expect(res.body[key].code).toBe(code);
  if (message !== undefined) expect(res.body[key].message).toMatch(message);
  expect(res.text).not.toMatch(/select |insert into|update "|\$1/i);
};
let deep = '1';
for (let i = 0; i < 5000; i++) deep = `[${deep}]`;

describe('bad input is a 400, never a 500', () => {
  const cases: Array<[string, string, string | undefined, string | RegExp]> = [
    ['POST', v3('/volumes'), '{"volume":{"size":1,"name":"a\\u0000b"}}', /^Invalid input received: NUL characters/],
    ['POST', v3('/volumes'), '{"volume":{"size":1,"metadata":{"k\\u0000":"v"}}}', /^Invalid input received: NUL characters/],
    ['GET', v3('/volumes?name=a%00b'), undefined, /^Invalid input received: NUL characters/],
    ['GET', v3('/volumes/a%00b'), undefined, /^Invalid input received: NUL characters/],
    ['POST', v21('/servers'), '{"server":{"name":"a\\u0000b","flavorRef":"1"}}', /^Invalid input received: NUL characters/],
    ['POST', v3('/volumes'), `{"volume":{"size":1,"metadata":${deep}}}`, 'Malformed request body'],
    ['POST', v3('/volumes'), `{"volume":${deep}}`, 'Malformed request body'],
    ['GET', v3('/volumes/%ff'), undefined, 'Malformed request url'],
    ['GET', v3('/types/%E0%A4%A'), undefined, 'Malformed request url'],
    ['GET', v21('/servers/%ff'), undefined, 'Malformed request url'],
    ['POST', v3(`/volumes/${ID}/action`), '{"constructor":{}}', /^There is no such action: constructor\./],
    ['POST', v3(`/snapshots/${ID}/action`), '{"toString":{}}', /^There is no such action: toString\./],
    ['POST', v21(`/servers/${ID}/action`), '{"__proto__":{}}', /^There is no such action/],
    ['POST', v3(`/backups/${ID}/action`), '{"__proto__":"None"}', /^There is no such action: __proto__\./],
    ['POST', v3(`/backups/${ID}/action`), '{"constructor":{}}', /^There is no such action: constructor\./],
    ['GET', v3('/volumes?sort=constructor'), undefined, 'Invalid input received: Invalid sort key'],
    ['GET', v3('/volumes?sort_key=__proto__'), undefined, 'Invalid input received: Invalid sort key'],
    ['GET', v3('/volumes?offset=99999999999999999999'), undefined, 'Invalid input received: offset must be <= 2147483647'],
    ['GET', v3('/attachments?marker=xyz'), undefined, /^Invalid input received: /],
    [
      'PUT',
      v3(`/attachments/${ID}`),
      '{"attachment":{"connector":null}}',
      "Invalid input for field/attribute connector. Value: None. None is not of type 'object'",
    ],
  ];
  it.each(cases.map(([m, p, body, message]) => [`${m} ${p} ${body?.slice(0, 50) ?? ''}`, m, p, body, message] as const))(
    '%s',
    async (_name, m, p, body, message) => {
      fault(await call(m, p, body), 400, message);
    },
  );

  it("a request line or headers beyond the parser's limit get a JSON 431, not an empty one (fuzz seed 1298352799)", async () => {
    const res = await fetch(`${rt.url}/v3/${PROJECT}/snapshots/detail?sort=${'name:asc,'.repeat(3000)}`, { headers: H });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({ code: '431 Request Header Fields Too Large', message: expect.any(String) });
  });

  it('Glance schema names like Object.prototype members are a 404 (fuzz seed 1298631682)', async () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const res = await request(rt.url!).get(`/v2/schemas/${name}`).set(H);
      expect(res.status).toBe(404);
    }
  });

  it("group_specs: null is Cinder's 400 when setting specs (a type's create takes it as none)", async () => {
    const t = await call('POST', v3('/group_types'), '{"group_type":{"name":"g1","group_specs":null}}');
    expect(t.status).toBe(202);
    expect(t.body.group_type.group_specs).toEqual({});
    fault(
      await call('POST', v3(`/group_types/${t.body.group_type.id}/group_specs`), '{"group_specs":null}'),
      400,
      "Invalid input for field/attribute group_specs. Value: None. None is not of type 'object'",
    );
  });

  it("connector: null on an existing attachment's update is a 400 and the attachment stays reserved", async () => {
    const vol = await call('POST', v3('/volumes'), '{"volume":{"size":1}}');
    const id = vol.body.volume.id;
    for (let i = 0; i < 200 && (await call('GET', v3(`/volumes/${id}`))).body.volume.status !== 'available'; i++)
      await new Promise((r) => setTimeout(r, 25));
    const att = await call('POST', v3('/attachments'), JSON.stringify({ attachment: { volume_uuid: id } }));
    expect(att.status).toBe(200);
    fault(await call('PUT', v3(`/attachments/${att.body.attachment.id}`), '{"attachment":{"connector":null}}'), 400);
    expect((await call('GET', v3(`/attachments/${att.body.attachment.id}`))).body.attachment.status).toBe('reserved');
  });

  it('images: non-UUID ids of 36 characters, id filters and sizes beyond 2^53', async () => {
    for (const id of [
      '------------------------------------',
      'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
      '0123456789abcdef0123456789abcdef----',
    ]) {
      const show = await call('GET', `/v2/images/${id}`);
      expect(show.status).toBe(404);
      expect(show.body.message).toMatch(/^No image found with ID/);
      expect((await call('DELETE', `/v2/images/${id}`)).status).toBe(404);
      const list = await call('GET', `/v2/images?id=${id}`);
      expect(list.status).toBe(200);
      expect(list.body.images).toEqual([]);
    }
    for (const q of ['size_min=99999999999999999999', 'size_max=9007199254740993']) {
      const res = await call('GET', `/v2/images?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^Invalid value for size_m..: must be a non-negative integer/);
    }
    expect((await call('GET', '/v2/images/%ff')).status).toBe(400);
    expect((await call('POST', '/v2/images', '{"name":"a\\u0000"}')).status).toBe(400);
    // Nova's imageRef: the same strict check before the uuid column.
    fault(await call('POST', v3('/volumes'), '{"volume":{"size":1,"imageRef":"------------------------------------"}}'), 400);
  });

  it('the log holds no statement and no bind value, and no error line for refused input', async () => {
    const secret = 'bindvalue-7d1f';
    const res = await call('GET', v3(`/attachments?marker=${secret}`));
    expect(res.status).toBe(400);
    const all = logLines.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toMatch(/select |insert into/i);
    const refused = logLines.filter((l) => l.includes('database refused the input'));
    expect(refused.length).toBeGreaterThan(0);
    expect(JSON.parse(refused[refused.length - 1]!).err).toMatchObject({ type: 'DatabaseError', code: '22P02' });
    expect(logLines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
  });
});

describe('sort: one cap for every keyset list', () => {
  const keys = ['name:asc', 'size:desc', 'status:asc', 'created_at:desc', 'id:asc'];
  const long = Array.from({ length: 300 }, (_, i) => keys[i % keys.length]).join(',');
  const lists = [
    '/volumes',
    '/volumes/detail',
    '/snapshots',
    '/snapshots/detail',
    '/groups',
    '/group_snapshots',
    '/os-volume-transfer',
    '/volume-transfers',
    '/qos-specs',
  ];

  it.each(lists)('%s: a 300-term sort with a marker is a 400', async (list) => {
    const res = await call('GET', v3(`${list}?marker=${ID}&sort=${long}`));
    fault(res, 400, /^Invalid input received: (Too many sort keys|Invalid sort key)$/);
  });

  it('/v2/images: a 300-term sort, a repeated key, an Object.prototype key are 400s', async () => {
    for (const q of [`sort=${long}`, 'sort=name:asc,name:desc', 'sort_key=size&sort_key=size', 'sort=constructor']) {
      const res = await call('GET', `/v2/images?marker=${ID}&${q}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('400 Bad Request');
    }
  });

  it('a repeated key (or two names of one column) is a 400; distinct keys still sort', async () => {
    fault(await call('GET', v3('/volumes?sort=size:asc,size:desc')), 400, 'Invalid input received: Duplicate sort key: size');
    fault(
      await call('GET', v3('/volumes?sort=name:asc,display_name:desc')),
      400,
      'Invalid input received: Duplicate sort key: display_name',
    );
    fault(await call('GET', v3('/snapshots?sort=id,id')), 400, 'Invalid input received: Duplicate sort key: id');
    const ok = await call('GET', v3(`/volumes?sort=name:asc,size:desc,status:asc,id:desc&marker=${ID}`));
    expect(ok.status).toBe(404); // the marker names no volume: Cinder's 404, after the sort was accepted
    expect((await call('GET', v3('/volumes/detail?sort=name:asc,size:desc,status:asc,id:desc'))).status).toBe(200);
  });
});

describe('access log', () => {
  it('one line per request: method, path, status, request id, user, project, duration', async () => {
    const calls = [
      await call('GET', v3('/volumes?limit=1')),
      await call('GET', v21('/servers')),
      await call('GET', '/v2/images'),
      await call('GET', v3('/volumes/%ff')),
      await request(rt.url!).get(v3('/volumes')), // no token: noauth's 204
    ];
    await new Promise((r) => setTimeout(r, 50));
    const lines = logLines.map((l) => JSON.parse(l)).filter((l) => l.access === true);
    for (const res of calls) {
      const id = res.headers['x-openstack-request-id'];
      const mine = lines.filter((l) => l.requestId === id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ msg: 'request', method: 'GET', status: res.status, durationMs: expect.any(Number) });
      expect(mine[0].path).not.toContain('?');
    }
    const [vols] = lines.filter((l) => l.requestId === calls[0]!.headers['x-openstack-request-id']);
    expect(vols).toMatchObject({ path: v3('/volumes'), status: 200, user: TOKEN.split(':')[0], project: PROJECT });
    expect(lines.find((l) => l.requestId === calls[4]!.headers['x-openstack-request-id'])).toMatchObject({
      status: 204,
      user: null,
      project: null,
    });
  });
});

describe('the token before the body', () => {
  it.each([v3('/volumes'), v21('/servers')])(
    '%s: a 2 MB body without a token gets the auth answer, not a 413 of a body read first',
    async (p) => {
      const big = JSON.stringify({ volume: { size: 1, name: 'x'.repeat(2 * 1024 * 1024) } });
      const res = await request(rt.url!).post(p).set({ 'Content-Type': 'application/json' }).send(big);
      expect(res.status).toBe(204); // noauth's answer to a request without a token
      const withToken = await request(rt.url!).post(p).set(H).send(big);
      expect(withToken.status).toBe(413);
    },
  );
});
