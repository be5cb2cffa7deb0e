import type { Readable } from 'node:stream';
import express, { type Request, type Response } from 'express';
import addFormats from 'ajv-formats';
import OpenAPIBackend, { type Context, type Document, type Operation } from 'openapi-backend';
import type { Logger } from 'pino';
import { requireRoleFor } from '../../auth/policy';
import type { Authenticator, Identity } from '../../auth/identity';
import type { RequestContext } from '../../domain/context';
import type { ApiVersion } from '../../domain/microversion';
import type { RequestMetricLocals } from '../../metrics';
import { IDEMPOTENT_OPERATIONS, parseIdempotencyKey, type Idempotency } from '../../services/idempotency';
import { requestContext, type Reply } from './http';
import { bodyProblem, pathProblem, queryProblem, type InputProblem } from './input';
import { freezeRouting } from './openapiRouting';

/** What a handler of any wing answers; `stream` is sent as the body (Glance's image data). */
export interface MountReply extends Reply {
  readonly stream?: Readable;
}

/** The response's locals the mount reads and fills (the request id is set by the app before any wing). */
export interface MountLocals extends RequestMetricLocals {
  requestId: string;
}

/** A request as the mount knows it once it is routed: each wing makes its handlers' request from it. */
export interface Routed {
  readonly req: Request;
  readonly identity: Identity;
  readonly ctx: RequestContext;
  /** The project id the URL named (`/{project_id}/…`), if it named one. */
  readonly projectInUrl: string | undefined;
  /** The path below the wing's prefix and the project id, e.g. `volumes/detail`. */
  readonly apiPath: string;
  readonly body: unknown;
  readonly locals: MountLocals;
}

/** The mount's refusals in the wing's own words; the wing's `renderError` renders them. */
export interface Refusals {
  /** No operation at the path (under a project prefix, also any path with a trailing slash: no route has one). */
  notFound(): Error;
  methodNotAllowed(): Error;
  /** An operation of the document without a handler. */
  notImplemented(): Error;
  /** The document's validation failed. */
  invalid(c: Context): Error;
  /** Input no handler should see (src/http/shared/input.ts); `json`: a body that does not parse. */
  input(problem: InputProblem | 'json'): Error;
}

/** Microversions (Cinder, Nova), or one fixed version (Glance has none). */
export type VersionRule = { readonly fixed: ApiVersion } | Microversions;

export interface Microversions {
  /**
   * Negotiated before the token is checked (Nova: its version document and its version errors need none),
   * or once the token holds and the body is read (Cinder: keystonemiddleware and the size limit come first).
   */
  readonly beforeToken: boolean;
  /** The version the request asks for; sets the version headers. Throws the 400/406 of a bad one. */
  negotiate(req: Request, res: Response): ApiVersion;
  /** Refuses an operation the version lacks (before the role check). */
  checkOperation(operation: Operation, v: ApiVersion): void;
  /** Refuses a body the version's schema would (after the document's own validation and the role check). */
  checkBody(operation: Operation, body: unknown, v: ApiVersion): void;
}

export interface Wing<R> {
  /** The `api` label of the request metrics. */
  readonly api: string;
  /** The wing's OpenAPI document; the mount's backend dereferences it in place. */
  readonly spec: Document;
  /** Ajv: every schema error or the first (Glance's message names one); `format`s checked (ajv-formats) or not. */
  readonly ajv: { readonly allErrors: boolean; readonly formats: boolean };
  /** Handlers by operationId, each typed with its own operation's body (`never` here: the mount cannot know which). */
  readonly routes: Readonly<Record<string, (r: never) => Promise<MountReply>>>;
  /** The request a handler gets, but for `params` and `query`, which the mount adds. */
  request(m: Routed): Omit<R, 'params' | 'query'>;
  readonly authenticate: Authenticator;
  readonly versions: VersionRule;
  /**
   * `/{project_id}/…` or the same without the id (Cinder, Nova), the id checked against the token's;
   * absent: the path as it is (Glance).
   */
  readonly projectPrefix?: { otherProject(inUrl: string, tokenProject: string): Error };
  /** Where the URL's bytes are checked: before the body is read (Glance), or after the version and the prefix. */
  readonly checkUrl: 'beforeBody' | 'afterPrefix';
  /** Requests whose body the handler reads itself (Glance's data upload); the rest are JSON of at most 1 MB. */
  streamed?(req: Request): boolean;
  /** Handlers get the request's whole query (Glance's property filters: not in its document), else the validated one. */
  readonly wholeQuery: boolean;
  /** Runs first (after a `beforeToken` negotiation): answers what needs no token, the version documents; true if it did. */
  answerWithoutToken?(req: Request, res: Response, apiPath: string): boolean;
  readonly refusals: Refusals;
  renderError(err: unknown, req: Request, res: Response): void;
  /** `Idempotency-Key` on the creates that take one (src/services/idempotency.ts). */
  readonly idempotency?: Idempotency;
  readonly log: Logger;
}

const PROJECT_RE = /^[0-9a-f-]+$/;

/**
 * One OpenAPI mount for the three HTTP wings, as Cinder's paste pipeline is
 * one for all its controllers: the wing's document bound by operationId
 * (routing done once, src/http/shared/openapiRouting.ts), the role rule
 * before every handler, the project prefix, the token, the body, the
 * microversion, the reply; the wing's refusals and its error rendering.
 */
export function mountWing<R>(wing: Wing<R>): express.Router {
  const api = new OpenAPIBackend({
    definition: wing.spec,
    // quick: the documents are OpenAPI 3.1, which openapi-backend's own document check
    // (3.0 only) rejects; they are dereferenced synchronously and validators compile on first use.
    quick: true,
    strict: true,
    validate: true,
    ajvOpts: { strict: false, allErrors: wing.ajv.allErrors },
    customizeAjv: wing.ajv.formats ? (ajv) => addFormats(ajv) : undefined,
    handlers: {},
  });
  const versions = 'negotiate' in wing.versions ? wing.versions : undefined;
  const fixedVersion = 'fixed' in wing.versions ? wing.versions.fixed : undefined;
  const prefix = wing.projectPrefix;
  for (const [operationId, handler] of Object.entries(wing.routes)) {
    const idempotent = IDEMPOTENT_OPERATIONS.has(operationId) && wing.idempotency !== undefined;
    api.register(operationId, async (c: Context, m: Routed) => {
      m.locals.operation = operationId;
      versions?.checkOperation(c.operation, m.ctx.version);
      requireRoleFor(m.ctx, c.request.method, operationId);
      versions?.checkBody(c.operation, m.body, m.ctx.version);
      const query = wing.wholeQuery ? m.req.query : c.request.query;
      // The body was validated against this operation's schema, which the handler's body type is generated from.
      const run = () => (handler as (r: R) => Promise<MountReply>)({ ...wing.request(m), params: c.request.params, query } as R);
      const key = idempotent ? parseIdempotencyKey(m.req.get('idempotency-key')) : undefined;
      if (key === undefined) return run();
      return wing.idempotency!.run({ projectId: m.ctx.projectId, key, operation: operationId, path: m.apiPath, body: m.body }, run);
    });
  }
  const { refusals } = wing;
  api.register({
    validationFail: async (c: Context, m: Routed) => {
      m.locals.operation = c.operation.operationId;
      throw refusals.invalid(c);
    },
    notFound: async () => {
      throw refusals.notFound();
    },
    methodNotAllowed: async () => {
      throw refusals.methodNotAllowed();
    },
    notImplemented: async () => {
      throw refusals.notImplemented();
    },
  });
  api.init();
  freezeRouting(api);

  const checkUrl = (req: Request) => {
    const problem = pathProblem(req.path) ?? queryProblem(req.query as Record<string, unknown>);
    if (problem) throw refusals.input(problem);
  };
  const rawBody = express.raw({ type: () => true, limit: '1mb' });
  const readBody = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => rawBody(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

  const router = express.Router({ strict: true });
  router.use(async (req: Request, res: Response) => {
    const locals = res.locals as MountLocals;
    locals.metricsApi = wing.api;
    try {
      let projectInUrl: string | undefined;
      let apiPath = req.path.slice(1);
      if (prefix) {
        const [, first = '', ...rest] = req.path.split('/');
        if (PROJECT_RE.test(first)) {
          projectInUrl = first;
          apiPath = rest.join('/');
        }
      }
      let version = versions?.beforeToken ? (locals.version = versions.negotiate(req, res)) : fixedVersion;
      if (wing.answerWithoutToken?.(req, res, apiPath)) return;

      // The body is read only once the token holds (keystonemiddleware answers before the service reads a byte).
      const identity = await wing.authenticate(req, res);
      if (!identity) return;
      if (wing.checkUrl === 'beforeBody') checkUrl(req);
      const streamed = wing.streamed?.(req) ?? false;
      if (!streamed) await readBody(req, res);
      if (versions && !versions.beforeToken) version = locals.version = versions.negotiate(req, res);

      if (prefix) {
        if (projectInUrl && projectInUrl !== identity.projectId) throw prefix.otherProject(projectInUrl, identity.projectId);
        // Cinder's and Nova's routes have no trailing slash: `GET /volumes/` is no route, not the list (tempest).
        if (apiPath.endsWith('/')) throw refusals.notFound();
      }
      if (wing.checkUrl === 'afterPrefix') checkUrl(req);

      const ctx = requestContext(locals.requestId, identity, version!); // fixed, or negotiated by now
      const body = streamed ? undefined : jsonBody(req.body, refusals);
      const routed: Routed = { req, identity, ctx, projectInUrl, apiPath, body, locals };
      const reply = (await api.handleRequest(
        {
          method: req.method,
          path: `/${apiPath}`,
          query: wing.wholeQuery ? {} : (req.query as Record<string, string>),
          headers: { 'content-type': streamed ? 'application/octet-stream' : 'application/json' },
          body,
        },
        routed,
      )) as MountReply;
      if (reply.headers) res.set(reply.headers);
      if (reply.stream) {
        res.status(reply.status);
        reply.stream.on('error', (err) => {
          wing.log.error({ err }, 'image data read failed');
          res.destroy(err);
        });
        reply.stream.pipe(res);
      } else if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    } catch (err) {
      wing.renderError(err, req, res);
    }
  });
  return router;
}

/** The JSON body of a raw request buffer (absent when empty), refused when it does not parse or holds what no handler should see. */
function jsonBody(raw: unknown, refusals: Refusals): unknown {
  const text = Buffer.isBuffer(raw) && raw.length > 0 ? raw.toString('utf8') : '';
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw refusals.input('json');
  }
  const problem = bodyProblem(body);
  if (problem) throw refusals.input(problem);
  return body;
}

/** `scheme://host` of the request, as links and version documents name it. */
export const originOf = (req: Request): string => `${req.protocol}://${req.get('host') ?? 'localhost'}`;
