import type { Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { noAuth, type Authenticator } from './identity';
import { KeystoneClient, KeystoneUnavailable } from './keystone';
import type { KeystoneSettings } from '../config/keystone';

/**
 * keystonemiddleware's own answers, byte for byte as recorded from Cinder 21
 * (`keystone_error_*.json`): they come before Cinder's API code runs, so
 * they carry no microversion headers and have Keystone's error shape.
 */
function keystoneError(res: Response, status: 401 | 503, settings: KeystoneSettings): void {
  const body =
    status === 401
      ? '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}'
      : '{"error": {"code": 503, "title": "Service Unavailable", "message": "The Keystone service is temporarily unavailable."}}';
  res.removeHeader('x-compute-request-id');
  if (status === 401) res.set('WWW-Authenticate', `Keystone uri="${settings.wwwAuthenticateUri}"`);
  res.status(status).type('application/json').send(body);
}

/** `AUTH_STRATEGY=keystone`: every request but `GET /` needs a token Keystone vouches for. */
export function keystoneAuth(settings: KeystoneSettings, log: Logger, client = new KeystoneClient(settings)): Authenticator {
  return async (req, res) => {
    const token = req.get('x-auth-token');
    if (!token) {
      keystoneError(res, 401, settings);
      return undefined;
    }
    try {
      const identity = await client.validate(token);
      if (!identity) keystoneError(res, 401, settings);
      // keystonemiddleware: a service token that came along must be valid too; its roles become X-Service-Roles.
      const serviceToken = req.get('x-service-token');
      if (!identity || !serviceToken) return identity;
      const service = await client.validate(serviceToken);
      if (!service) {
        keystoneError(res, 401, settings);
        return undefined;
      }
      return { ...identity, serviceRoles: service.roles };
    } catch (err) {
      if (!(err instanceof KeystoneUnavailable)) throw err;
      log.error({ err: err.message }, 'cannot validate tokens: Keystone unavailable');
      keystoneError(res, 503, settings);
      return undefined;
    }
  };
}

/** The authenticator the configuration asks for. */
export function authenticatorFor(config: Config, log: Logger): Authenticator {
  if (config.authStrategy === 'keystone') return keystoneAuth(config.keystone!, log);
  if (!isLoopback(config.host)) {
    log.warn(
      { host: config.host, port: config.port },
      'noauth on a non-loopback address: every caller who reaches it is an admin (set AUTH_STRATEGY=keystone)',
    );
  }
  return noAuth(config);
}

/** 127.0.0.0/8, ::1 and localhost: where noauth's everyone-is-admin reaches only this host. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}
