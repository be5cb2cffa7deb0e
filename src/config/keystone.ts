/** How cairn reaches Keystone (keystonemiddleware's `[keystone_authtoken]`), read from the environment. */
export interface KeystoneSettings {
  /** Identity v3, e.g. `http://127.0.0.1:5000/v3`. */
  readonly url: string;
  readonly serviceUser: string;
  readonly servicePassword: string;
  readonly serviceProject: string;
  readonly userDomain: string;
  readonly projectDomain: string;
  /** What a 401's `WWW-Authenticate: Keystone uri="…"` names (Cinder's `www_authenticate_uri`). */
  readonly wwwAuthenticateUri: string;
  /** Longest time a validation is trusted without asking Keystone again (keystonemiddleware's token_cache_time). */
  readonly cacheSeconds: number;
  /** Most validations kept at once. */
  readonly cacheSize: number;
  readonly timeoutMs: number;
}

function nonNegative(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/**
 * `KEYSTONE_URL` (or the kit's `KEYSTONE_AUTH_URL`), `KEYSTONE_SERVICE_USER`,
 * `KEYSTONE_SERVICE_PASSWORD`, `KEYSTONE_SERVICE_PROJECT`,
 * `KEYSTONE_USER_DOMAIN`/`KEYSTONE_PROJECT_DOMAIN` [Default],
 * `KEYSTONE_WWW_AUTHENTICATE_URI` [the URL without /v3],
 * `KEYSTONE_CACHE_SECONDS` [300], `KEYSTONE_CACHE_SIZE` [10000],
 * `KEYSTONE_TIMEOUT_MS` [10000]. Throws naming what is missing.
 */
export function keystoneSettings(env: NodeJS.ProcessEnv): KeystoneSettings {
  const url = (env.KEYSTONE_URL || env.KEYSTONE_AUTH_URL || '').replace(/\/+$/, '');
  const missing = [
    ['KEYSTONE_URL', url],
    ['KEYSTONE_SERVICE_USER', env.KEYSTONE_SERVICE_USER],
    ['KEYSTONE_SERVICE_PASSWORD', env.KEYSTONE_SERVICE_PASSWORD],
    ['KEYSTONE_SERVICE_PROJECT', env.KEYSTONE_SERVICE_PROJECT],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) throw new Error(`AUTH_STRATEGY=keystone needs ${missing.join(', ')}`);
  return {
    url,
    serviceUser: env.KEYSTONE_SERVICE_USER!,
    servicePassword: env.KEYSTONE_SERVICE_PASSWORD!,
    serviceProject: env.KEYSTONE_SERVICE_PROJECT!,
    userDomain: env.KEYSTONE_USER_DOMAIN || 'Default',
    projectDomain: env.KEYSTONE_PROJECT_DOMAIN || 'Default',
    wwwAuthenticateUri: env.KEYSTONE_WWW_AUTHENTICATE_URI || url.replace(/\/v3$/, ''),
    cacheSeconds: nonNegative(env, 'KEYSTONE_CACHE_SECONDS', 300),
    cacheSize: nonNegative(env, 'KEYSTONE_CACHE_SIZE', 10_000),
    timeoutMs: nonNegative(env, 'KEYSTONE_TIMEOUT_MS', 10_000),
  };
}
