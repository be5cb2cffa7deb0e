import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Authenticator, Identity } from '../../auth/identity';

const IDENTITY = Symbol('identity');

/** The authenticator, remembering on the response whom it established (for the access log). */
export function rememberingIdentity(authenticate: Authenticator): Authenticator {
  return async (req, res) => {
    const identity = await authenticate(req, res);
    if (identity) (res.locals as Record<symbol, Identity>)[IDENTITY] = identity;
    return identity;
  };
}

/** Paths are the caller's: a line keeps at most this much of one. */
const MAX_PATH = 512;

/**
 * One structured line per request, as Cinder's API log has (`"GET /v3/…"
 * status len time`): method, path (no query string), status, request id,
 * user, project (when authenticated) and duration, logged when the
 * response is done (`close`, which follows `finish`) — or when the client went
 * away first. Below the `info` level nothing is noted at all.
 */
export function accessLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!log.isLevelEnabled('info')) {
      next();
      return;
    }
    const start = process.hrtime.bigint();
    res.once('close', () => {
      const identity = (res.locals as Record<symbol, Identity | undefined>)[IDENTITY];
      const path = req.originalUrl.split('?')[0]!;
      log.info(
        {
          access: true,
          method: req.method,
          path: path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path,
          status: res.statusCode,
          requestId: res.get('x-openstack-request-id'),
          user: identity?.userId ?? null,
          project: identity?.projectId ?? null,
          durationMs: Number(process.hrtime.bigint() - start) / 1e6,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    next();
  };
}
