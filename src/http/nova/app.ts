import fs from 'node:fs';
import express, { type Request, type Response } from 'express';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';
import { acceptAnyQuery } from '../shared/lenientQuery';
import OpenAPIBackend, { type Context, type Document } from 'openapi-backend';
import { requireRoleFor } from '../../auth/policy';
import { COMPUTE_MAX, COMPUTE_MIN, COMPUTE_UPDATED } from '../../domain/compute';
import { ApiError, badRequest, notFound } from '../../domain/errors';
import { fmt, negotiate, type ApiVersion } from '../../domain/microversion';
import type { Authenticator } from '../../auth/identity';
import { ComputeLinks, type ComputeHandler, type ComputeRequest, type ComputeRouteTable } from './http';
import { cinderValidationMessage } from '../shared/validationMessage';
import { checkRequestUrl, parseJsonBody, requestContext } from '../shared/http';
import { checkVersionedProperties, existsAt, type Schema } from './versionGate';
import { valueAt } from '../shared/jsonPath';
import { freezeRouting } from '../shared/openapiRouting';
import type { RequestMetricLocals } from '../../metrics';
import { IDEMPOTENT_OPERATIONS, parseIdempotencyKey, type Idempotency } from '../../services/idempotency';
import { specFile } from '../shared/specs';

const COMPUTE_FILE = specFile('compute.yaml');

export function loadComputeApi(): Document {
  return acceptAnyQuery(yaml.load(fs.readFileSync(COMPUTE_FILE, 'utf8')) as Document);
}

const PROJECT_RE = /^[0-9a-f-]+$/;
const NOT_FOUND = 'The resource could not be found.';

/**
 * `OpenStack-API-Version: compute X`, else the legacy
 * `X-OpenStack-Nova-API-Version: X` (`microversion_parse.get_version` with
 * legacy headers); neither → 2.1. 400 on a malformed version, 406 out of range.
 */
export function computeVersion(req: Request): ApiVersion {
  const header = req.get('openstack-api-version');
  if (header?.split(',').some((p) => p.trim().split(/\s+/)[0]?.toLowerCase() === 'compute')) {
    return negotiate(header, 'compute', COMPUTE_MIN, COMPUTE_MAX);
  }
  const legacy = req.get('x-openstack-nova-api-version');
  return legacy ? negotiate(`compute ${legacy.trim()}`, 'compute', COMPUTE_MIN, COMPUTE_MAX) : COMPUTE_MIN;
}

/** Nova's `v2.1` version document (`versions.py`, `views/versions.py:build_version`). */
export function computeVersionDocument(origin: string) {
  return {
    version: {
      id: 'v2.1', status: 'CURRENT', version: fmt(COMPUTE_MAX), min_version: fmt(COMPUTE_MIN), updated: COMPUTE_UPDATED,
      links: [
        { rel: 'self', href: `${origin}/v2.1/` },
        { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
      ],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
    },
  };
}

export interface ComputeAppDeps {
  readonly routes: ComputeRouteTable;
  readonly authenticate: Authenticator;
  /** `Idempotency-Key` on creates (src/services/idempotency.ts). */
  readonly idempotency?: Idempotency;
}

/**
 * The compute API, mounted at `/v2.1` of the volume API's app: its own
 * OpenAPI document (api-spec/compute.yaml) bound by operationId, the same
 * authenticate dependency, Nova's microversion headers. Errors go to the
 * app's one error middleware, which renders the fault envelope Nova and
 * Cinder share.
 */
export function computeRouter(deps: ComputeAppDeps): express.Router {
  const doc = loadComputeApi();
  const api = new OpenAPIBackend({
    definition: loadComputeApi(),
    quick: true, strict: true, validate: true,
    ajvOpts: { strict: false, allErrors: true },
    customizeAjv: (ajv) => addFormats(ajv),
    handlers: {},
  });
  for (const [operationId, handler] of Object.entries(deps.routes)) {
    const idempotent = IDEMPOTENT_OPERATIONS.has(operationId);
    api.register(operationId, async (c: Context, r: Omit<ComputeRequest, 'params' | 'query'> & { locals: RequestMetricLocals; idempotencyKey?: string; apiPath: string }) => {
      r.locals.operation = operationId;
      // An operation that exists only up to a microversion (the deprecated proxies, `x-max-version`) is a 404 beyond it.
      if (!existsAt(c.operation as Schema, r.ctx.version)) throw notFound(NOT_FOUND);
      requireRoleFor(r.ctx, c.request.method, operationId);
      const bodySchema = valueAt(doc.paths, [c.operation.path, c.operation.method, 'requestBody', 'content', 'application/json', 'schema']);
      checkVersionedProperties(doc, bodySchema as Schema | undefined, r.body, r.ctx.version);
      // The body was validated against this operation's schema, which the handler's body type is generated from.
      const run = () => (handler as ComputeHandler)({ ...r, params: c.request.params as Record<string, string>, query: c.request.query as ComputeRequest['query'] });
      const key = idempotent && deps.idempotency ? parseIdempotencyKey(r.idempotencyKey) : undefined;
      if (key === undefined) return run();
      return deps.idempotency!.run({ projectId: r.ctx.projectId, key, operation: operationId, path: r.apiPath, body: r.body }, run);
    });
  }
  api.register({
    validationFail: async (c: Context, r: { locals: RequestMetricLocals }) => {
      r.locals.operation = c.operation.operationId;
      // Nova's schema errors read like Cinder's (`nova/api/validation/validators.py`, the same jsonschema texts).
      throw badRequest(cinderValidationMessage(c.validation.errors ?? [], c.request.requestBody,
        { root: 'requestBody', request: { query: c.request.query, params: c.request.params, path: c.request.params } }));
    },
    notFound: async () => { throw notFound(NOT_FOUND); },
    methodNotAllowed: async () => { throw new ApiError(405, 'badMethod', 'The method is not allowed for this resource.'); },
    notImplemented: async () => { throw new ApiError(501, 'notImplemented', 'The requested function is not supported.'); },
  });
  api.init();
  freezeRouting(api); // the routing work done once (src/http/shared/openapiRouting.ts)

  const router = express.Router({ strict: true });
  // The body is read only once the token holds.
  const rawBody = express.raw({ type: () => true, limit: '1mb' });
  router.use(async (req: Request, res: Response, next) => {
    const locals = res.locals as RequestMetricLocals;
    locals.metricsApi = 'compute';
    try {
      const [, first = '', ...rest] = req.path.split('/');
      const projectInUrl = PROJECT_RE.test(first) ? first : undefined;
      const apiPath = (projectInUrl ? rest : [first, ...rest]).join('/');
      const version = computeVersion(req);
      locals.version = version;
      res.set({
        'OpenStack-API-Version': `compute ${fmt(version)}`, 'X-OpenStack-Nova-API-Version': fmt(version),
        Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
      });
      const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
      // GET /v2.1, /v2.1/ and /v2.1/{project_id}: where novaclient and keystoneauth read the version range.
      // Nova serves /v2.1/ outside its auth pipeline (api-paste.ini); keystoneauth's discovery asks without
      // a token, and noauth would answer that with a 204, so no form of it needs a token here.
      if (apiPath === '' && req.method === 'GET') {
        locals.operation = 'versions';
        res.status(200).json(computeVersionDocument(origin));
        return;
      }
      const identity = await deps.authenticate(req, res);
      if (!identity) return;
      await new Promise<void>((resolve, reject) => rawBody(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      if (projectInUrl && projectInUrl !== identity.projectId) {
        throw badRequest(`Malformed request URL: URL's project_id '${projectInUrl}' doesn't match Context's project_id '${identity.projectId}'`);
      }
      // Nova's routes have no trailing slash: `/os-volumes/` (an empty id) is no route, a 404, not the list.
      if (apiPath.endsWith('/')) throw notFound(NOT_FOUND);
      checkRequestUrl(req.path, req.query as Record<string, unknown>);
      const ctx = requestContext(String(res.get('x-openstack-request-id')), identity, version);
      const body = parseJsonBody(req.body);
      const reply = await api.handleRequest(
        { method: req.method, path: `/${apiPath}`, query: req.query as Record<string, string>, headers: { 'content-type': 'application/json' }, body },
        { ctx, links: new ComputeLinks(origin, projectInUrl), body, locals, apiPath, idempotencyKey: req.get('idempotency-key') },
      ) as { status: number; body?: unknown; headers?: Record<string, string> };
      if (reply.headers) res.set(reply.headers);
      if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
