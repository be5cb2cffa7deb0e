import type { ApiVersion } from './microversion';
import { forbidden } from './errors';

/** Who is asking, as the auth middleware established it. */
export interface RequestContext {
  readonly requestId: string;
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  readonly version: ApiVersion;
  /**
   * Roles of the service token that came with the request (keystonemiddleware's
   * `X-Service-Roles`): another OpenStack service acting for the user. Absent for users.
   */
  readonly serviceRoles?: readonly string[];
}

/** Cinder's `service_token_roles` default: a caller with one of these is a service, not a user. */
export const SERVICE_TOKEN_ROLES: readonly string[] = ['service'];

/** Cinder's `context.is_service_request`: the request carries a service token with a service role. */
export const isServiceRequest = (ctx: RequestContext): boolean => (ctx.serviceRoles ?? []).some((r) => SERVICE_TOKEN_ROLES.includes(r));

/** Admin-only operations (Cinder's `admin_api` rule). */
export function requireAdmin(ctx: RequestContext, action: string): void {
  if (!ctx.isAdmin) throw forbidden(action);
}

/** Changing anything needs `member` (or `admin`): a reader, or a token with no role cairn knows, may only look. */
export function requireWriter(ctx: RequestContext, action: string): void {
  if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden(action);
}

/** The project a caller's reads and writes are scoped to: undefined (every project) only for an admin asking `all_tenants`. */
export const scopeOf = (ctx: RequestContext, allTenants = false): { projectId: string | undefined } => ({
  projectId: ctx.isAdmin && allTenants ? undefined : ctx.projectId,
});
