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
export type JsonBody<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : Op extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B | undefined
    : undefined;

/**
 * A wing's handlers by operationId (`satisfies RoutesOf<operations>`), each given its operation's body
 * type from the generated OpenAPI types: the mount validates the body against that schema first.
 */
export type RoutesOf<Ops> = { [K in keyof Ops]?: RouteHandler<JsonBody<Ops[K]>> };

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const accepted = (body?: unknown): Reply => ({ status: 202, body });
export const noContent = (): Reply => ({ status: 204 });

/** The caller of one request, as every service sees it. */
export function requestContext(requestId: string, identity: Identity, version: ApiVersion): RequestContext {
  return {
    requestId,
    userId: identity.userId,
    projectId: identity.projectId,
    roles: identity.roles,
    isAdmin: identity.roles.includes('admin'),
    version,
    ...(identity.serviceRoles ? { serviceRoles: identity.serviceRoles } : {}),
  };
}
