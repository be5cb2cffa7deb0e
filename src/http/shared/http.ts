import { badRequest, invalidInput } from '../../domain/errors';
import { bodyProblem, pathProblem, PROBLEM_TEXT, queryProblem } from './input';
import type { ApiVersion } from '../../domain/microversion';
import type { Identity } from '../../auth/identity';
import type { RequestContext } from '../../domain/context';
import type { Links } from '../cinder/views/links';
import type { RawQuery } from '../../services/listQuery';

/** What a handler gets: the caller, link builder and the validated request parts (B: the body's type). */
export interface RouteRequest<B = unknown> {
  readonly ctx: RequestContext;
  readonly links: Links;
  readonly params: Record<string, string>;
  readonly query: RawQuery;
  readonly body: B;
  /** The API path below the version/project prefix, e.g. `volumes/detail`. */
  readonly apiPath: string;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type RouteHandler<B = unknown> = (r: RouteRequest<B>) => Promise<Reply>;
/** Handlers by operationId, whatever body each is typed with (`RoutesOf` types them; the mount validates). */
export type RouteTable = Record<string, RouteHandler<never>>;

/** The JSON body an operation of a generated `operations` type declares (undefined for one without). */
export type JsonBody<Op> =
  Op extends { requestBody: { content: { 'application/json': infer B } } } ? B
    : Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B | undefined : undefined;

/**
 * A wing's handlers by operationId (`satisfies RoutesOf<operations>`), each given its operation's body
 * type from the generated OpenAPI types: the mount validates the body against that schema first.
 */
export type RoutesOf<Ops> = { [K in keyof Ops]?: RouteHandler<JsonBody<Ops[K]>> };

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const accepted = (body?: unknown): Reply => ({ status: 202, body });
export const noContent = (): Reply => ({ status: 204 });

/** The JSON body of a raw request buffer (absent when empty); Cinder's and Nova's 400 when it does not parse. */
export function parseJsonBody(raw: unknown): unknown {
  const text = Buffer.isBuffer(raw) && raw.length > 0 ? raw.toString('utf8') : '';
  if (text.trim() === '') return undefined;
  let body: unknown;
  try { body = JSON.parse(text); } catch { throw badRequest('Malformed request body'); }
  const problem = bodyProblem(body);
  if (problem === 'depth') throw badRequest('Malformed request body');
  if (problem) throw invalidInput(PROBLEM_TEXT[problem]);
  return body;
}

/** Cinder's and Nova's 400 for a URL whose path does not decode or whose path or query holds a NUL. */
export function checkRequestUrl(rawPath: string, query: Record<string, unknown>): void {
  const problem = pathProblem(rawPath) ?? queryProblem(query);
  if (problem === 'escape') throw badRequest('Malformed request url');
  if (problem) throw invalidInput(PROBLEM_TEXT[problem]);
}

/** The caller of one request, as every service sees it. */
export function requestContext(requestId: string, identity: Identity, version: ApiVersion): RequestContext {
  return {
    requestId, userId: identity.userId, projectId: identity.projectId,
    roles: identity.roles, isAdmin: identity.roles.includes('admin'), version,
    ...(identity.serviceRoles ? { serviceRoles: identity.serviceRoles } : {}),
  };
}
