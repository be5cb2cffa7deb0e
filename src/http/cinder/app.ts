import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';
import { acceptAnyQuery } from '../shared/lenientQuery';
import OpenAPIBackend, { type Context, type Document } from 'openapi-backend';
import type { Logger } from 'pino';
import { ApiError, badRequest, databaseUnavailable, isDatabaseUnavailable, notFound } from '../../domain/errors';
import { atLeast, fmt, negotiate, VOLUME_MAX, VOLUME_MIN, type ApiVersion } from '../../domain/microversion';
import { requireRoleFor } from '../../auth/policy';
import type { Authenticator } from '../../auth/identity';
import { checkRequestUrl, parseJsonBody, requestContext, type RouteHandler, type RouteRequest, type RouteTable } from '../shared/http';
import { cinderValidationMessage } from '../shared/validationMessage';
import { versionsDocument } from './versions';
import { Links } from './views/links';
import { freezeRouting } from '../shared/openapiRouting';
import { VersionedBodies } from './versionedBody';
import type { Metrics, RequestMetricLocals } from '../../metrics';
import { healthEndpoint, type Health } from '../../health';
import { IDEMPOTENT_OPERATIONS, parseIdempotencyKey, type Idempotency } from '../../services/idempotency';
import { dbInputReason } from '../../db/errors';
import { accessLog } from '../shared/accessLog';
import { specFile } from '../shared/specs';


const OPENAPI_FILE = specFile('openapi.yaml');

export function loadOpenApi(): Document {
  return acceptAnyQuery(yaml.load(fs.readFileSync(OPENAPI_FILE, 'utf8')) as Document);
}

/** webob's 404 for URLs no route matches (Cinder answers this, not a fault body). */
const WEBOB_NOT_FOUND = { message: 'The resource could not be found.<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' };

const PROJECT_RE = /^[0-9a-f-]+$/;

interface Locals extends RequestMetricLocals {
  requestId: string;
  version?: ApiVersion;
}

const parseVersion = (s: unknown): ApiVersion | undefined => {
  if (typeof s !== 'string') return undefined;
  const [major, minor] = s.split('.').map(Number);
  return { major: major!, minor: minor! };
};

export interface AppDeps {
  readonly routes: RouteTable;
  readonly authenticate: Authenticator;
  readonly log: Logger;
  /** The compute (Nova) API, served under `/v2.1` (src/http/nova/app.ts). */
  readonly compute?: express.RequestHandler;
  /** cairn's own Glance v2 subset, served under `/v2` (src/http/glance/app.ts) when no external Glance is configured. */
  readonly images?: express.RequestHandler;
  /** Prometheus metrics: every request is counted, and `GET /metrics` serves the registry (src/metrics). */
  readonly metrics?: Metrics;
  /** `GET /healthcheck` (src/health), open to load balancers. */
  readonly health?: Health;
  /** `Idempotency-Key` on creates (src/services/idempotency.ts). */
  readonly idempotency?: Idempotency;
  /** The operator's console, served under `/console` (src/console). */
  readonly console?: express.RequestHandler;
}

/**
 * The HTTP app: request id → version documents → project prefix → auth →
 * microversion → body → openapi-backend (routing and validation) → handler;
 * one error middleware renders Cinder's fault envelope.
 */
export function createApp(deps: AppDeps): express.Express {
  const api = new OpenAPIBackend({
    definition: loadOpenApi(),
    // quick: the document is OpenAPI 3.1, which openapi-backend's own document check
    // (3.0 only) rejects; it is dereferenced synchronously and validators compile on first use.
    quick: true,
    strict: true,
    validate: true,
    ajvOpts: { strict: false, allErrors: true },
    customizeAjv: (ajv) => addFormats(ajv),
    handlers: {},
  });
  // Bodies whose schema tightens at a microversion (`x-from-version`): checked again at the negotiated one.
  const versionedBodies = new VersionedBodies(loadOpenApi());
  for (const [operationId, handler] of Object.entries(deps.routes)) {
    const idempotent = IDEMPOTENT_OPERATIONS.has(operationId);
    api.register(operationId, async (c: Context, r: Omit<RouteRequest, 'params' | 'query'> & { locals: Locals; idempotencyKey?: string }) => {
      r.locals.operation = operationId;
      const ctx = r.ctx;
      const min = parseVersion((c.operation as { 'x-min-version'?: string })['x-min-version']);
      // Cinder: a route whose method the microversion lacks is a fault (itemNotFound, with version headers).
      if (min && !atLeast(ctx.version, min.major, min.minor)) throw notFound('The resource could not be found.');
      requireRoleFor(ctx, c.request.method, operationId);
      versionedBodies.check(c.operation.path, c.operation.method, r.body, ctx.version);
      // The body was validated against this operation's schema, which the handler's body type is generated from.
      const run = () => (handler as RouteHandler)({ ...r, params: c.request.params as Record<string, string>, query: c.request.query as RouteRequest['query'] });
      const key = idempotent && deps.idempotency ? parseIdempotencyKey(r.idempotencyKey) : undefined;
      if (key === undefined) return run();
      return deps.idempotency!.run({ projectId: ctx.projectId, key, operation: operationId, path: r.apiPath, body: r.body }, run);
    });
  }
  api.register({
    validationFail: async (c: Context, r: { locals: Locals }) => {
      r.locals.operation = c.operation.operationId;
      throw badRequest(cinderValidationMessage(c.validation.errors ?? [], c.request.requestBody,
        { root: 'requestBody', request: { query: c.request.query, params: c.request.params, path: c.request.params } }));
    },
    notFound: async () => ({ status: 404, body: WEBOB_NOT_FOUND }),
    methodNotAllowed: async () => ({ status: 404, body: WEBOB_NOT_FOUND }),
    notImplemented: async () => { throw new ApiError(501, 'notImplemented', 'The requested function is not supported.'); },
  });
  api.init();
  freezeRouting(api);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('strict routing', true); // else GET /v3/ matches the /v3 redirect below, forever

  if (deps.metrics) app.use(deps.metrics.track);
  if (deps.metrics) {
    app.get('/metrics', (req, res, next) => { (res.locals as Locals).operation = 'metrics'; return deps.metrics!.handler(req, res, next); });
  }
  if (deps.health) {
    const healthcheck = healthEndpoint(deps.health, { authenticate: deps.authenticate });
    app.all('/healthcheck', (req, res, next) => {
      (res.locals as Locals).operation = 'healthcheck';
      if (req.method !== 'GET' && req.method !== 'HEAD') { next(); return; }
      healthcheck(req, res).catch(next);
    });
  }

  app.use((req, res, next) => {
    const requestId = `req-${randomUUID()}`;
    (res.locals as Locals).requestId = requestId;
    res.set({ 'x-openstack-request-id': requestId, 'x-compute-request-id': requestId });
    next();
  });
  app.use(accessLog(deps.log));

  const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const versionHeaders = (res: Response, v: string) =>
    res.set({ 'OpenStack-API-Version': `volume ${v}`, Vary: 'OpenStack-API-Version' });

  app.get('/', (req, res) => { (res.locals as Locals).operation = 'versions'; versionHeaders(res, fmt(VOLUME_MIN)); res.status(300).json(versionsDocument(origin(req))); });
  // An absolute Location, as webob's: keystoneauth's discovery cannot follow a relative one.
  // Behind auth like the rest of /v3 (Cinder's paste pipeline: only `/` is open).
  app.get('/v3', async (req, res, next) => {
    try {
      if (await deps.authenticate(req, res)) res.redirect(302, `${origin(req)}/v3/`);
    } catch (err) { next(err); }
  });
  app.get('/v3/', async (req, res, next) => {
    try {
      if (!await deps.authenticate(req, res)) return;
      versionHeaders(res, fmt(negotiate(req.get('openstack-api-version'), 'volume', VOLUME_MIN, VOLUME_MAX)));
      res.status(200).json(versionsDocument(origin(req)));
    } catch (err) { next(err); }
  });

  // The body is read only once the token holds (keystonemiddleware answers before Cinder reads a byte).
  const rawBody = express.raw({ type: () => true, limit: '1mb' });
  app.use('/v3', async (req, res, next) => {
    (res.locals as Locals).metricsApi = 'volume';
    try {
      const [, first = '', ...rest] = req.path.split('/');
      const projectInUrl = PROJECT_RE.test(first) ? first : undefined;
      const apiPath = (projectInUrl ? rest : [first, ...rest]).join('/');

      const identity = await deps.authenticate(req, res);
      if (!identity) return;
      await new Promise<void>((resolve, reject) => rawBody(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

      const header = req.get('openstack-api-version');
      let version: ApiVersion;
      try {
        version = negotiate(header, 'volume', VOLUME_MIN, VOLUME_MAX);
      } catch (err) {
        // Cinder 21 echoes "volume 3.99" in the 406's headers, but not "volume 2.0".
        const asked = header!.replace(/^\s*volume\s+/i, '');
        if (err instanceof ApiError && err.status === 406 && parseVersion(asked)?.major === VOLUME_MAX.major) versionHeaders(res, asked);
        throw err;
      }
      (res.locals as Locals).version = version;
      versionHeaders(res, fmt(version));

      if (projectInUrl && projectInUrl !== identity.projectId) throw badRequest('Malformed request url');
      // Cinder's router matches no path with a trailing slash (tempest: GET /volumes/ is a 404, not the list).
      if (apiPath.endsWith('/')) {
        res.removeHeader('OpenStack-API-Version'); res.removeHeader('Vary');
        res.status(404).json(WEBOB_NOT_FOUND);
        return;
      }

      checkRequestUrl(req.path, req.query as Record<string, unknown>);
      const ctx = requestContext((res.locals as Locals).requestId, identity, version);
      const body = parseJsonBody(req.body);
      const reply = await api.handleRequest(
        { method: req.method, path: `/${apiPath}`, query: req.query as Record<string, string>, headers: { 'content-type': 'application/json' }, body },
        { ctx, links: new Links(origin(req), projectInUrl), body, apiPath, locals: res.locals as Locals, idempotencyKey: req.get('idempotency-key') },
      ) as { status: number; body?: unknown; headers?: Record<string, string> };
      // No route matched: Cinder's router answers before its microversion handling, so no version headers.
      if (reply.body === WEBOB_NOT_FOUND) { res.removeHeader('OpenStack-API-Version'); res.removeHeader('Vary'); }
      if (reply.headers) res.set(reply.headers);
      if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    } catch (err) {
      next(err);
    }
  });

  if (deps.console) app.use('/console', (req, res, next) => { (res.locals as Locals).operation = 'console'; next(); }, deps.console);
  if (deps.compute) app.use('/v2.1', deps.compute);
  if (deps.images) app.use('/v2', deps.images);

  app.use((req, res) => { res.status(404).json(WEBOB_NOT_FOUND); });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toApiError(err, deps.log, (res.locals as Locals).requestId);
    res.set(e.headers);
    const fault: Record<string, unknown> = { code: e.status, message: e.message };
    if (e.status === 413 && e.headers['Retry-After']) fault.retryAfter = e.headers['Retry-After'];
    res.status(e.status).json({ [e.fault]: fault });
  });
  return app;
}

/** Anything that is not an ApiError: bad input the database caught, or a bug (logged, generic 500). */
function toApiError(err: unknown, log: Logger, requestId: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; code?: string; message?: string };
  if (e.type === 'entity.too.large') return new ApiError(413, 'overLimit', 'Request is too large.');
  if (e.type === 'entity.parse.failed') return badRequest('Malformed request body');
  // PostgreSQL's data exceptions: the caller's input, answered without the statement or the value.
  const reason = dbInputReason(err);
  if (reason !== undefined) {
    log.info({ err, requestId }, 'database refused the input');
    return badRequest(`Invalid input received: ${reason}`);
    }
    // The database went away: the operation may have happened, so never a 500; 503 with Retry-After, as Cinder's.
    if (isDatabaseUnavailable(err)) {
      log.warn({ err: e.message, requestId }, 'database unreachable; answering 503');
      return databaseUnavailable();
  }
  log.error({ err, requestId }, 'unhandled error');
  return new ApiError(500, 'computeFault', 'The server has either erred or is incapable of performing the requested operation.');
}
