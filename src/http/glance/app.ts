import fs from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import yaml from 'js-yaml';
import OpenAPIBackend, { type Context, type Document } from 'openapi-backend';
import type { Logger } from 'pino';
import { requireRoleFor } from '../../auth/policy';
import { ApiError, databaseUnavailable, DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../../domain/errors';
import { roleContextOf } from '../../services/images/caller';
import type { Authenticator } from '../../auth/identity';
import type { ImageReply, ImageRequest, ImageRouteTable } from './routes';
import { GlanceError, renderGlanceError } from '../../services/images/errors';
import { glanceVersions } from './view';
import { freezeRouting } from '../shared/openapiRouting';
import type { RequestMetricLocals } from '../../metrics';
import { bodyProblem, pathProblem, PROBLEM_TEXT, queryProblem } from '../shared/input';
import { dbInputReason } from '../../db/errors';
import { specFile } from '../shared/specs';

const IMAGE_FILE = specFile('image.yaml');

export function loadImageApi(): Document {
  return yaml.load(fs.readFileSync(IMAGE_FILE, 'utf8')) as Document;
}

export interface ImageAppDeps {
  readonly routes: ImageRouteTable;
  readonly authenticate: Authenticator;
  readonly log: Logger;
}

const FILE_PATH = /^\/images\/[^/]+\/file$/;

/**
 * cairn's Glance v2 subset, mounted at `/v2` of the volume API's app: its
 * own OpenAPI document (api-spec/image.yaml) bound by operationId, the
 * same authenticate dependency and role rule, and Glance's (webob's)
 * error rendering instead of Cinder's fault envelope.
 */
export function imageRouter(deps: ImageAppDeps): express.Router {
  const api = new OpenAPIBackend({ definition: loadImageApi(), quick: true, strict: true, validate: true, ajvOpts: { strict: false }, handlers: {} });
  for (const [operationId, handler] of Object.entries(deps.routes)) {
    api.register(operationId, async (c: Context, r: Omit<ImageRequest, 'params'> & { locals: RequestMetricLocals }) => {
      r.locals.operation = operationId;
      requireRoleFor(roleContextOf(r.caller), c.request.method, operationId);
      return handler({ ...r, params: c.request.params as Record<string, string> });
    });
  }
  api.register({
    validationFail: async (c: Context, r: { locals: RequestMetricLocals }) => { r.locals.operation = c.operation.operationId; throw new GlanceError(400, (c.validation.errors ?? []).map((e) => e.message).join('; ')); },
    notFound: async () => { throw new GlanceError(404, 'The resource could not be found.'); },
    methodNotAllowed: async () => { throw new GlanceError(405, 'The method is not allowed for this resource.'); },
    notImplemented: async () => { throw new GlanceError(501, 'The requested function is not supported.'); },
  });
  api.init();
  freezeRouting(api); // the routing work done once (src/http/shared/openapiRouting.ts)

  const router = express.Router({ strict: true });
  const jsonBody = express.raw({ type: () => true, limit: '1mb' });
  router.use(async (req: Request, res: Response, _next: NextFunction) => {
    (res.locals as RequestMetricLocals).metricsApi = 'image';
    try {
      res.removeHeader('x-compute-request-id'); // Glance sends x-openstack-request-id only
      const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
      // Glance's version negotiation answers these without a token (keystoneauth's discovery asks without one).
      if ((req.path === '/' || req.path === '') && req.method === 'GET') {
        res.status(req.originalUrl.endsWith('/') ? 200 : 300).json(glanceVersions(origin));
        return;
      }
      const identity = await deps.authenticate(req, res);
      if (!identity) return;
      const urlProblem = pathProblem(req.path) ?? queryProblem(req.query as Record<string, unknown>);
      if (urlProblem) throw new GlanceError(400, urlProblem === 'escape' ? 'Malformed request URL.' : `Invalid input: ${PROBLEM_TEXT[urlProblem]}`);
      const caller = { projectId: identity.projectId, userId: identity.userId, isAdmin: identity.roles.includes('admin'), roles: identity.roles };
      // The data upload streams its body to the store; everything else is a small JSON body.
      const streaming = req.method === 'PUT' && FILE_PATH.test(req.path);
      if (!streaming) await new Promise<void>((resolve, reject) => jsonBody(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      const body = streaming ? undefined : parseBody(req.body);
      const reply = await api.handleRequest(
        // Query keys beyond the documented ones are Glance's property filters: the handler reads the whole query.
        { method: req.method, path: req.path, query: {}, headers: { 'content-type': streaming ? 'application/octet-stream' : 'application/json' }, body },
        { caller, body, raw: req, query: req.query as ImageRequest['query'], locals: res.locals },
      ) as ImageReply;
      if (reply.headers) res.set(reply.headers);
      if (reply.stream) {
        res.status(reply.status);
        reply.stream.on('error', (err) => { deps.log.error({ err }, 'image data read failed'); res.destroy(err); });
        reply.stream.pipe(res);
      } else if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    } catch (err) {
      renderError(err, req, res, deps.log);
    }
  });
  return router;
}

function parseBody(raw: unknown): unknown {
  const text = Buffer.isBuffer(raw) && raw.length > 0 ? raw.toString('utf8') : '';
  if (text.trim() === '') return undefined;
  let body: unknown;
  try { body = JSON.parse(text); } catch { throw new GlanceError(400, 'Malformed JSON in request body.'); }
  const problem = bodyProblem(body);
  if (problem === 'depth') throw new GlanceError(400, 'Malformed JSON in request body.');
  if (problem) throw new GlanceError(400, `Invalid input: ${PROBLEM_TEXT[problem]}`);
  return body;
}

function renderError(err: unknown, req: Request, res: Response, log: Logger): void {
  let status = 500;
  let message = 'The server has either erred or is incapable of performing the requested operation.';
  if (err instanceof GlanceError) ({ status, message } = err);
  else if (err instanceof ApiError) ({ status, message } = err);
  else if ((err as { type?: string }).type === 'entity.too.large') { status = 413; message = 'Request is too large.'; }
  else if (dbInputReason(err) !== undefined) { status = 400; message = `Invalid input: ${dbInputReason(err)}`; log.info({ err }, 'database refused the input'); }
  else if (isDatabaseUnavailable(err)) {
    ({ status, message } = databaseUnavailable());
    res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  }
  else log.error({ err, requestId: res.get('x-openstack-request-id') }, 'unhandled error');
  if (res.headersSent) { res.destroy(); return; }
  const { type, body } = renderGlanceError(status, message, req.get('accept'));
  res.status(status).type(type).send(body);
}
