import type { Request, Response } from 'express';
import type { Config } from '../config';

/** The caller as an auth strategy established it. */
export interface Identity {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  /** Roles of a validated service token (`X-Service-Token`), when one came with the request. */
  readonly serviceRoles?: readonly string[];
}

/**
 * Returns the caller, or undefined after answering the request itself.
 * noauth is Cinder's: `X-Auth-Token: <user_id>:<project_id>` and every
 * caller is an admin; without a token it answers 204 with a fake token,
 * as `cinder/api/middleware/auth.py:NoAuthMiddleware` does.
 */
export type Authenticator = (req: Request, res: Response) => Promise<Identity | undefined>;

export function noAuth(config: Pick<Config, 'host' | 'port'>): Authenticator {
  return async (req, res) => {
    const token = req.get('x-auth-token');
    if (!token) {
      res
        .status(204)
        .set({
          'X-Auth-Token': 'admin:admin',
          'X-Server-Management-Url': `${req.protocol}://${req.get('host') ?? `${config.host}:${config.port}`}${req.originalUrl}`,
          'Content-Type': 'text/plain; charset=UTF-8',
        })
        .end();
      return undefined;
    }
    const idx = token.indexOf(':');
    const userId = idx < 0 ? token : token.slice(0, idx);
    const projectId = idx < 0 ? token : token.slice(idx + 1) || userId;
    // Cinder's noauth takes `X-Service-Roles` as sent (keystonemiddleware sets it only from a valid service token).
    const serviceRoles = (req.get('x-service-roles') ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    return { userId, projectId, roles: ['admin', 'member', 'reader'], ...(serviceRoles.length ? { serviceRoles } : {}) };
  };
}
