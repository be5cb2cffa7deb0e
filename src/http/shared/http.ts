import type { ApiVersion } from '../../domain/microversion';
import type { Identity } from '../../auth/identity';
import type { RequestContext } from '../../domain/context';
import type { Links } from '../cinder/views/links';
import type { RawQuery } from '../../services/listQuery';

/** What a handler gets: the caller, link builder and the validated request parts. */
export interface RouteRequest {
  readonly ctx: RequestContext;
  readonly links: Links;
  readonly params: Record<string, string>;
  readonly query: RawQuery;
  readonly body: any;
  /** The API path below the version/project prefix, e.g. `volumes/detail`. */
  readonly apiPath: string;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type RouteHandler = (r: RouteRequest) => Promise<Reply>;
export type RouteTable = Record<string, RouteHandler>;

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const accepted = (body?: unknown): Reply => ({ status: 202, body });
export const noContent = (): Reply => ({ status: 204 });

/** The caller of one request, as every service sees it. */
export function requestContext(requestId: string, identity: Identity, version: ApiVersion): RequestContext {
  return {
    requestId, userId: identity.userId, projectId: identity.projectId,
    roles: identity.roles, isAdmin: identity.roles.includes('admin'), version,
    ...(identity.serviceRoles ? { serviceRoles: identity.serviceRoles } : {}),
  };
}
