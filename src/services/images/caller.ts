import type { RequestContext } from '../../domain/context';
import type { ImageCaller } from '../../domain/image';

/** An image caller as the role rule (auth/policy.ts) sees it (Glance has no microversions: a fixed one). */
export function roleContextOf(c: ImageCaller & { roles?: readonly string[] }): RequestContext {
  return {
    requestId: '',
    userId: c.userId,
    projectId: c.projectId,
    roles: c.roles ?? (c.isAdmin ? ['admin'] : []),
    isAdmin: c.isAdmin,
    version: { major: 2, minor: 0 },
  };
}

/** The image caller of a volume or compute request. */
export const imageCallerOf = (ctx: Pick<RequestContext, 'projectId' | 'userId' | 'isAdmin'>): ImageCaller => ({
  projectId: ctx.projectId,
  userId: ctx.userId,
  isAdmin: ctx.isAdmin,
});
