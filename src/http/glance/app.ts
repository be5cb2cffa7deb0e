import fs from 'node:fs';
import type { Request, Response, Router } from 'express';
import yaml from 'js-yaml';
import type { Document } from 'openapi-backend';
import type { Logger } from 'pino';
import { ApiError, databaseUnavailable, DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../../domain/errors';
import type { Authenticator } from '../../auth/identity';
import type { ImageRequest, ImageRouteTable } from './routes';
import { GlanceError, renderGlanceError } from '../../services/images/errors';
import { glanceVersions } from './view';
import { mountWing, originOf } from '../shared/mount';
import { PROBLEM_TEXT } from '../shared/input';
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
 * own OpenAPI document (api-spec/image.yaml) on the shared mount
 * (src/http/shared/mount.ts), no microversions, no project in the URL,
 * and Glance's (webob's) error rendering instead of Cinder's fault envelope.
 */
export function imageRouter(deps: ImageAppDeps): Router {
  return mountWing<ImageRequest>({
    api: 'image',
    spec: loadImageApi(),
    ajv: { allErrors: false, formats: false },
    routes: deps.routes,
    request: (m) => ({
      caller: {
        projectId: m.identity.projectId,
        userId: m.identity.userId,
        isAdmin: m.identity.roles.includes('admin'),
        roles: m.identity.roles,
      },
      body: m.body,
      raw: m.req,
    }),
    authenticate: deps.authenticate,
    // Glance has no microversions: the role rule (auth/policy.ts) sees a fixed one.
    versions: { fixed: { major: 2, minor: 0 } },
    checkUrl: 'beforeBody',
    // The data upload streams its body to the store; everything else is a small JSON body.
    streamed: (req) => req.method === 'PUT' && FILE_PATH.test(req.path),
    // Query keys beyond the documented ones are Glance's property filters: the handler reads the whole query.
    wholeQuery: true,
    answerWithoutToken: (req, res, apiPath) => {
      res.removeHeader('x-compute-request-id'); // Glance sends x-openstack-request-id only
      // Glance's version negotiation answers these without a token (keystoneauth's discovery asks without one).
      if (apiPath !== '' || req.method !== 'GET') return false;
      res.status(req.originalUrl.endsWith('/') ? 200 : 300).json(glanceVersions(originOf(req)));
      return true;
    },
    refusals: {
      invalid: (c) => new GlanceError(400, (c.validation.errors ?? []).map((e) => e.message).join('; ')),
      notFound: () => new GlanceError(404, 'The resource could not be found.'),
      methodNotAllowed: () => new GlanceError(405, 'The method is not allowed for this resource.'),
      notImplemented: () => new GlanceError(501, 'The requested function is not supported.'),
      input: (problem) => {
        if (problem === 'json' || problem === 'depth') return new GlanceError(400, 'Malformed JSON in request body.');
        return new GlanceError(400, problem === 'escape' ? 'Malformed request URL.' : `Invalid input: ${PROBLEM_TEXT[problem]}`);
      },
    },
    renderError: (err, req, res) => renderError(err, req, res, deps.log),
    log: deps.log,
  });
}

function renderError(err: unknown, req: Request, res: Response, log: Logger): void {
  let status = 500;
  let message = 'The server has either erred or is incapable of performing the requested operation.';
  if (err instanceof GlanceError) ({ status, message } = err);
  else if (err instanceof ApiError) ({ status, message } = err);
  else if ((err as { type?: string }).type === 'entity.too.large') {
    status = 413;
    message = 'Request is too large.';
  } else if (dbInputReason(err) !== undefined) {
    status = 400;
    message = `Invalid input: ${dbInputReason(err)}`;
    log.info({ err }, 'database refused the input');
  } else if (isDatabaseUnavailable(err)) {
    ({ status, message } = databaseUnavailable());
    res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  } else log.error({ err, requestId: res.get('x-openstack-request-id') }, 'unhandled error');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { type, body } = renderGlanceError(status, message, req.get('accept'));
  res.status(status).type(type).send(body);
}
