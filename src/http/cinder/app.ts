import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import yaml from 'js-yaml';
import { acceptAnyQuery } from '../shared/lenientQuery';
import type { Document } from 'openapi-backend';
import type { Logger } from 'pino';
import { ApiError, badRequest, notFound } from '../../domain/errors';
import { atLeast, fmt, negotiate, VOLUME_MAX, VOLUME_MIN, type ApiVersion } from '../../domain/microversion';
import type { Authenticator } from '../../auth/identity';
import type { RouteRequest, RouteTable } from '../shared/http';
import { mountWing, originOf } from '../shared/mount';
import { FAULT_REFUSALS, faultRenderer } from '../shared/fault';
import { versionsDocument } from './versions';
import { Links } from './views/links';
import { VersionedBodies } from './versionedBody';
import type { Metrics, RequestMetricLocals } from '../../metrics';
import { healthEndpoint, type Health } from '../../health';
import type { Idempotency } from '../../services/idempotency';
import { accessLog } from '../shared/accessLog';
import { specFile } from '../shared/specs';

const OPENAPI_FILE = specFile('openapi.yaml');

export function loadOpenApi(): Document {
  return acceptAnyQuery(yaml.load(fs.readFileSync(OPENAPI_FILE, 'utf8')) as Document);
}

/** webob's 404 for URLs no route matches (Cinder answers this, not a fault body). */
const WEBOB_NOT_FOUND = { message: 'The resource could not be found.<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' };

interface Locals extends RequestMetricLocals {
  requestId: string;
  version?: ApiVersion;
}

const parseVersion = (s: unknown): ApiVersion | undefined => {
  if (typeof s !== 'string') return undefined;
  const [major, minor] = s.split('.').map(Number);
  return { major: major!, minor: minor! };
};

const versionHeaders = (res: Response, v: string) => res.set({ 'OpenStack-API-Version': `volume ${v}`, Vary: 'OpenStack-API-Version' });

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

/** Cinder's router answers an unknown path (or method) before its microversion handling: webob's 404, no version headers. */
class WebobNotFound extends Error {}

/** The volume API, mounted at `/v3`: Cinder's microversions, project prefix and answers. */
function volumeApi(deps: AppDeps, renderFault: ReturnType<typeof faultRenderer>): express.Router {
  // Bodies whose schema tightens at a microversion (`x-from-version`): checked again at the negotiated one.
  const versionedBodies = new VersionedBodies(loadOpenApi());
  return mountWing<RouteRequest>({
    api: 'volume',
    spec: loadOpenApi(),
    ajv: { allErrors: true, formats: true },
    routes: deps.routes,
    request: (m) => ({ ctx: m.ctx, links: new Links(originOf(m.req), m.projectInUrl), body: m.body, apiPath: m.apiPath }),
    authenticate: deps.authenticate,
    versions: {
      beforeToken: false,
      negotiate: (req, res) => {
        const header = req.get('openstack-api-version');
        try {
          const version = negotiate(header, 'volume', VOLUME_MIN, VOLUME_MAX);
          versionHeaders(res, fmt(version));
          return version;
        } catch (err) {
          // Cinder 21 echoes "volume 3.99" in the 406's headers, but not "volume 2.0".
          const asked = header!.replace(/^\s*volume\s+/i, '');
          if (err instanceof ApiError && err.status === 406 && parseVersion(asked)?.major === VOLUME_MAX.major) versionHeaders(res, asked);
          throw err;
        }
      },
      // Cinder: a route whose method the microversion lacks is a fault (itemNotFound, with version headers).
      checkOperation: (op, v) => {
        const min = parseVersion((op as { 'x-min-version'?: string })['x-min-version']);
        if (min && !atLeast(v, min.major, min.minor)) throw notFound('The resource could not be found.');
      },
      checkBody: (op, body, v) => versionedBodies.check(op.path, op.method, body, v),
    },
    projectPrefix: { otherProject: () => badRequest('Malformed request url') },
    checkUrl: 'afterPrefix',
    wholeQuery: false,
    refusals: { ...FAULT_REFUSALS, notFound: () => new WebobNotFound(), methodNotAllowed: () => new WebobNotFound() },
    renderError: (err, req, res) => {
      if (!(err instanceof WebobNotFound)) {
        renderFault(err, req, res);
        return;
      }
      res.removeHeader('OpenStack-API-Version');
      res.removeHeader('Vary');
      res.status(404).json(WEBOB_NOT_FOUND);
    },
    idempotency: deps.idempotency,
    log: deps.log,
  });
}

/**
 * The HTTP app: metrics and health → request id → version documents →
 * the three wings (src/http/shared/mount.ts): `/v3` here, Nova's `/v2.1`,
 * Glance's `/v2`; one error middleware renders Cinder's fault envelope for
 * the rest.
 */
export function createApp(deps: AppDeps): express.Express {
  const renderFault = faultRenderer(deps.log);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('strict routing', true); // else GET /v3/ matches the /v3 redirect below, forever

  if (deps.metrics) app.use(deps.metrics.track);
  if (deps.metrics) {
    app.get('/metrics', (req, res, next) => {
      (res.locals as Locals).operation = 'metrics';
      return deps.metrics!.handler(req, res, next);
    });
  }
  if (deps.health) {
    const healthcheck = healthEndpoint(deps.health, { authenticate: deps.authenticate });
    app.all('/healthcheck', (req, res, next) => {
      (res.locals as Locals).operation = 'healthcheck';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        next();
        return;
      }
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

  app.get('/', (req, res) => {
    (res.locals as Locals).operation = 'versions';
    versionHeaders(res, fmt(VOLUME_MIN));
    res.status(300).json(versionsDocument(originOf(req)));
  });
  // An absolute Location, as webob's: keystoneauth's discovery cannot follow a relative one.
  // Behind auth like the rest of /v3 (Cinder's paste pipeline: only `/` is open).
  app.get('/v3', async (req, res, next) => {
    try {
      if (await deps.authenticate(req, res)) res.redirect(302, `${originOf(req)}/v3/`);
    } catch (err) {
      next(err);
    }
  });
  app.get('/v3/', async (req, res, next) => {
    try {
      if (!(await deps.authenticate(req, res))) return;
      versionHeaders(res, fmt(negotiate(req.get('openstack-api-version'), 'volume', VOLUME_MIN, VOLUME_MAX)));
      res.status(200).json(versionsDocument(originOf(req)));
    } catch (err) {
      next(err);
    }
  });

  app.use('/v3', volumeApi(deps, renderFault));

  if (deps.console)
    app.use(
      '/console',
      (req, res, next) => {
        (res.locals as Locals).operation = 'console';
        next();
      },
      deps.console,
    );
  if (deps.compute) app.use('/v2.1', deps.compute);
  if (deps.images) app.use('/v2', deps.images);

  app.use((req, res) => {
    res.status(404).json(WEBOB_NOT_FOUND);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    renderFault(err, req, res);
  });
  return app;
}
