import express, { type Request, type Response } from 'express';
import request from 'supertest';
import pino from 'pino';
import type { Document } from 'openapi-backend';
import type { Identity } from '../../src/auth/identity';
import { ApiError } from '../../src/domain/errors';
import { mountWing, type Wing } from '../../src/http/shared/mount';

const PROJECT = 'abc123';
const TOKENS: Record<string, Identity> = {
  member: { userId: 'u1', projectId: PROJECT, roles: ['member', 'reader'] },
  reader: { userId: 'u2', projectId: PROJECT, roles: ['reader'] },
};

/** A wing's smallest document: a list and a create with a required name. */
const spec = (): Document => ({
  openapi: '3.1.0',
  info: { title: 'test', version: '1' },
  paths: {
    '/things': {
      get: { operationId: 'listThings', responses: { 200: { description: 'ok' } } },
      post: {
        operationId: 'createThing',
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['name'] } } } },
        responses: { 200: { description: 'ok' } },
      },
    },
  },
});

interface ThingRequest {
  readonly who: string;
  readonly body: unknown;
  readonly params: Record<string, string>;
  readonly query: unknown;
}

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The wing mounted at `/w` of an app that sets the request id, as createApp does; errors answered as `{status, message}`. */
function app(overrides: Partial<Wing<ThingRequest>> = {}) {
  const refuse = (status: number, message: string) => () => new Refused(status, message);
  const wing: Wing<ThingRequest> = {
    api: 'test',
    spec: spec(),
    ajv: { allErrors: true, formats: true },
    routes: {
      listThings: async (r: ThingRequest) => ({ status: 200, body: { who: r.who, query: r.query } }),
      createThing: async (r: ThingRequest) => ({ status: 201, body: r.body }),
    },
    request: (m) => ({ who: m.identity.userId, body: m.body }),
    authenticate: async (req: Request, res: Response) => {
      const identity = TOKENS[req.get('x-auth-token') ?? ''];
      if (!identity) res.status(401).json({ message: 'no token' });
      return identity;
    },
    versions: { fixed: { major: 1, minor: 0 } },
    projectPrefix: { otherProject: (inUrl) => new Refused(400, `not ${inUrl}`) },
    checkUrl: 'afterPrefix',
    wholeQuery: false,
    refusals: {
      notFound: refuse(404, 'no route'),
      methodNotAllowed: refuse(405, 'no method'),
      notImplemented: refuse(501, 'no handler'),
      invalid: refuse(400, 'invalid'),
      input: (problem) => new Refused(400, `input: ${problem}`),
    },
    renderError: (err, _req, res) => {
      const e = err as { status?: number; type?: string; message: string };
      const status = e instanceof Refused || e instanceof ApiError ? e.status : e.type === 'entity.too.large' ? 413 : 500;
      res.status(status).json({ message: e.message });
    },
    log: pino({ level: 'silent' }),
    ...overrides,
  };
  const a = express();
  a.use((_req, res, next) => {
    res.locals.requestId = 'req-1';
    next();
  });
  a.use('/w', mountWing(wing));
  return a;
}

const big = JSON.stringify({ name: 'x'.repeat(1_100_000) });

describe('mountWing: one OpenAPI mount for the three wings', () => {
  it("under a project prefix: with or without the id, the id must be the token's, and a trailing slash is no route", async () => {
    const a = app();
    for (const path of [`/w/${PROJECT}/things`, '/w/things']) {
      const res = await request(a).get(path).set('X-Auth-Token', 'member');
      expect([res.status, res.body.who]).toEqual([200, 'u1']);
    }
    const other = await request(a).get('/w/def456/things').set('X-Auth-Token', 'member');
    expect([other.status, other.body.message]).toEqual([400, 'not def456']);
    const slash = await request(a).get(`/w/${PROJECT}/things/`).set('X-Auth-Token', 'member');
    expect([slash.status, slash.body.message]).toEqual([404, 'no route']);
  });

  it('without a prefix the path is the route: a project id is just an unknown path', async () => {
    const a = app({ projectPrefix: undefined });
    expect((await request(a).get('/w/things').set('X-Auth-Token', 'member')).status).toBe(200);
    const prefixed = await request(a).get(`/w/${PROJECT}/things`).set('X-Auth-Token', 'member');
    expect([prefixed.status, prefixed.body.message]).toEqual([404, 'no route']);
  });

  it("refuses by the wing's words: unknown method, schema, a body that is no JSON, a NUL", async () => {
    const a = app();
    const send = (method: 'delete' | 'post', body?: string) =>
      request(a)[method]('/w/things').set('X-Auth-Token', 'member').set('Content-Type', 'application/json').send(body);
    expect((await send('delete')).body.message).toBe('no method');
    expect((await send('post', '{}')).body.message).toBe('invalid');
    expect((await send('post', '{')).body.message).toBe('input: json');
    expect((await send('post', '{"name": "a\\u0000"}')).body.message).toBe('input: nul');
    const created = await send('post', '{"name": "a"}');
    expect([created.status, created.body]).toEqual([201, { name: 'a' }]);
  });

  it('runs the role rule before the handler: a reader may list, not create', async () => {
    const a = app();
    expect((await request(a).get('/w/things').set('X-Auth-Token', 'reader')).status).toBe(200);
    const res = await request(a).post('/w/things').set('X-Auth-Token', 'reader').send({ name: 'a' });
    expect([res.status, res.body.message]).toEqual([403, "Policy doesn't allow createThing to be performed."]);
  });

  it('checks the URL where the wing says: before the body is read, or after it (a body over 1 MB is then the answer)', async () => {
    const post = (a: express.Express) =>
      request(a).post('/w/things?x=%00').set('X-Auth-Token', 'member').set('Content-Type', 'application/json').send(big);
    expect((await post(app({ checkUrl: 'beforeBody' }))).body.message).toBe('input: nul');
    expect((await post(app({ checkUrl: 'afterPrefix' }))).status).toBe(413);
  });

  it('negotiates the version before the token, or once the token holds and the body is read', async () => {
    const versions = (beforeToken: boolean) => ({
      beforeToken,
      negotiate: (req: Request) => {
        if (req.get('x-version') !== '1.0') throw new Refused(406, 'bad version');
        return { major: 1, minor: 0 };
      },
      checkOperation: () => {},
      checkBody: () => {},
    });
    const early = await request(app({ versions: versions(true) }))
      .get('/w/things')
      .set('X-Version', '9.9');
    expect([early.status, early.body.message]).toEqual([406, 'bad version']);
    const late = await request(app({ versions: versions(false) }))
      .get('/w/things')
      .set('X-Version', '9.9');
    expect(late.status).toBe(401);
    const ok = await request(app({ versions: versions(false) }))
      .get('/w/things')
      .set('X-Version', '1.0')
      .set('X-Auth-Token', 'member');
    expect(ok.status).toBe(200);
  });

  it("gives handlers the validated query, or the whole one where the document names none (Glance's filters)", async () => {
    const validated = await request(app()).get('/w/things?a=1').set('X-Auth-Token', 'member');
    expect([validated.status, validated.body.message]).toEqual([400, 'invalid']); // the document declares no `a`
    const whole = await request(app({ wholeQuery: true }))
      .get('/w/things?a=1')
      .set('X-Auth-Token', 'member');
    expect(whole.body.query).toEqual({ a: '1' });
  });
});
