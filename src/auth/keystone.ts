/**
 * Token validation as keystonemiddleware does it for Cinder: cairn logs in
 * once as its service user (`POST /v3/auth/tokens`, password, project scope)
 * and keeps that token until it expires or Keystone answers 401; each
 * caller's token is checked with `GET /v3/auth/tokens` (`X-Subject-Token`)
 * and the answer cached until the token expires, for at most
 * `cacheSeconds`, in a bounded cache.
 */
import { createHash } from 'node:crypto';
import type { Identity } from './identity';
import type { KeystoneSettings } from '../config/keystone';
import { TtlCache } from './ttlCache';

/** Keystone could not be asked (down, timed out, 5xx, or refused cairn's own login). */
export class KeystoneUnavailable extends Error {}

/** Re-login this long before the service token expires, so no request carries a token about to lapse. */
const SERVICE_TOKEN_MARGIN_MS = 60_000;

interface ServiceToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Cached outcome of one validation: the caller, or `null` for a token Keystone does not know. */
type Validation = Identity | null;

export class KeystoneClient {
  private service: ServiceToken | undefined;
  private login: Promise<ServiceToken> | undefined;
  private readonly cache: TtlCache<Validation>;
  private readonly inflight = new Map<string, Promise<Validation>>();
  /** Counters for tests and diagnostics. */
  readonly stats = { logins: 0, validations: 0 };

  constructor(
    private readonly s: KeystoneSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TtlCache<Validation>(s.cacheSize, now);
  }

  /**
   * The caller of `token`, or undefined when Keystone does not know it (or
   * it is not scoped to a project: every cairn request acts in one).
   * Throws KeystoneUnavailable when Keystone cannot tell.
   */
  async validate(token: string): Promise<Identity | undefined> {
    // Keyed by a hash, so the cache holds no usable token.
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchValidation(token, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return (await pending) ?? undefined;
  }

  private async fetchValidation(token: string, key: string): Promise<Validation> {
    let service = await this.serviceToken();
    let res = await this.check(service.token, token);
    if (res.status === 401) {
      // Our own token was revoked or expired early: log in again, once.
      this.dropServiceToken(service);
      service = await this.serviceToken();
      res = await this.check(service.token, token);
    }
    const ttlEnd = this.now() + this.s.cacheSeconds * 1000;
    if (res.status === 404) {
      this.cache.set(key, null, ttlEnd);
      return null;
    }
    if (res.status !== 200) throw new KeystoneUnavailable(`token validation answered ${res.status}`);
    const t = (res.body as { token?: KeystoneToken }).token;
    const identity =
      t?.project?.id && t.user?.id ? { userId: t.user.id, projectId: t.project.id, roles: (t.roles ?? []).map((r) => r.name) } : null;
    const expires = Date.parse(t?.expires_at ?? '');
    this.cache.set(key, identity, Number.isNaN(expires) ? ttlEnd : Math.min(expires, ttlEnd));
    return identity;
  }

  private check(serviceToken: string, subject: string) {
    // nocatalog: keystonemiddleware does not need the catalog either, and it is most of the body.
    return this.request('GET', '/auth/tokens?nocatalog', { 'X-Auth-Token': serviceToken, 'X-Subject-Token': subject });
  }

  /** cairn's own token, logging in when there is none or it is about to expire; one login at a time. */
  async serviceToken(): Promise<ServiceToken> {
    if (this.service && this.service.expiresAt - SERVICE_TOKEN_MARGIN_MS > this.now()) return this.service;
    this.login ??= this.passwordLogin().then(
      (t) => {
        this.service = t;
        this.login = undefined;
        return t;
      },
      (err) => {
        this.login = undefined;
        throw err;
      },
    );
    return this.login;
  }

  private dropServiceToken(t: ServiceToken): void {
    if (this.service === t) this.service = undefined;
  }

  private async passwordLogin(): Promise<ServiceToken> {
    this.stats.logins++;
    const res = await this.request(
      'POST',
      '/auth/tokens',
      { 'Content-Type': 'application/json' },
      {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: this.s.serviceUser, domain: { name: this.s.userDomain }, password: this.s.servicePassword } },
          },
          scope: { project: { name: this.s.serviceProject, domain: { name: this.s.projectDomain } } },
        },
      },
    );
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) {
      throw new KeystoneUnavailable(`service login as ${this.s.serviceUser} answered ${res.status}`);
    }
    const expires = Date.parse((res.body as { token?: KeystoneToken }).token?.expires_at ?? '');
    return { token, expiresAt: Number.isNaN(expires) ? this.now() + 3_600_000 : expires };
  }

  private async request(method: string, path: string, headers: Record<string, string>, body?: unknown) {
    this.stats.validations += path.startsWith('/auth/tokens?') ? 1 : 0;
    let res: Response;
    try {
      res = await fetch(`${this.s.url}${path}`, {
        method,
        headers: { Accept: 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
    } catch (err) {
      throw new KeystoneUnavailable(`${method} ${this.s.url}${path}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }
}

/** The parts of a Keystone v3 token body cairn reads. */
interface KeystoneToken {
  expires_at?: string;
  user?: { id?: string };
  project?: { id?: string };
  roles?: Array<{ name: string }>;
}
