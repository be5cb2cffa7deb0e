import type { ApiVersion } from '../domain/microversion';
import { forbidden } from '../domain/errors';

/** Who is asking, as the auth middleware established it. */
export interface RequestContext {
  readonly requestId: string;
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  readonly version: ApiVersion;
}

/** Admin-only operations (Cinder's `admin_api` rule). */
export function requireAdmin(ctx: RequestContext, action: string): void {
  if (!ctx.isAdmin) throw forbidden(action);
}

/** Changing anything needs `member` (or `admin`): a reader, or a token with no role cairn knows, may only look. */
export function requireWriter(ctx: RequestContext, action: string): void {
  if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden(action);
}
