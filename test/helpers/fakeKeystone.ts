/**
 * An in-process Keystone v3 (node:http) with just what cairn uses:
 * `POST /v3/auth/tokens` (password login of the service user) and
 * `GET /v3/auth/tokens` (validate X-Subject-Token with a service token),
 * answering as the real one does (201 + X-Subject-Token; 200; 404 for an
 * unknown subject; 401 for a bad or revoked service token).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUser {
  readonly userId: string;
  readonly projectId?: string;
  readonly roles: readonly string[];
}

interface Issued extends FakeUser {
  expiresAt: number;
  service: boolean;
}

export const SERVICE = { user: 'cairn', password: 'cairn', project: 'service' };

export class FakeKeystone {
  private readonly tokens = new Map<string, Issued>();
  readonly counts = { logins: 0, validations: 0 };
  /** When set, every request answers 503 (Keystone "down" but reachable). */
  failing = false;
  /** Lifetime of the service tokens it issues. */
  serviceTokenMs = 3_600_000;

  private constructor(
    private readonly server: http.Server,
    readonly now: () => number,
  ) {}

  static async start(now: () => number = Date.now): Promise<FakeKeystone> {
    const server = http.createServer();
    const ks = new FakeKeystone(server, now);
    server.on('request', (req, res) => {
      ks.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return ks;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v3`;
  }

  /** Environment for a cairn validating against this Keystone. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AUTH_STRATEGY: 'keystone',
      KEYSTONE_URL: this.url,
      KEYSTONE_SERVICE_USER: SERVICE.user,
      KEYSTONE_SERVICE_PASSWORD: SERVICE.password,
      KEYSTONE_SERVICE_PROJECT: SERVICE.project,
      ...extra,
    };
  }

  /** A user token, valid for `ttlMs`. */
  issue(user: FakeUser, ttlMs = 3_600_000): string {
    const token = `gAAAA${randomBytes(24).toString('hex')}`;
    this.tokens.set(token, { ...user, expiresAt: this.now() + ttlMs, service: false });
    return token;
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  revokeServiceTokens(): void {
    for (const [t, v] of this.tokens) if (v.service) this.tokens.delete(t);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private valid(token: string | undefined): Issued | undefined {
    const t = token === undefined ? undefined : this.tokens.get(token);
    return t && t.expiresAt > this.now() ? t : undefined;
  }

  private body(t: Issued) {
    return {
      token: {
        methods: ['password'],
        expires_at: new Date(t.expiresAt).toISOString().replace('Z', '000Z'),
        issued_at: new Date(this.now()).toISOString(),
        user: { id: t.userId, name: t.userId, domain: { id: 'default', name: 'Default' } },
        ...(t.projectId ? { project: { id: t.projectId, name: t.projectId, domain: { id: 'default', name: 'Default' } } } : {}),
        roles: t.roles.map((name) => ({ id: `role-${name}`, name })),
        audit_ids: ['x'],
        is_domain: false,
      },
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const error = (code: number, title: string, message: string) => send(code, { error: { code, message, title } });
    if (this.failing) return error(503, 'Service Unavailable', 'down');
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v3/auth/tokens') return error(404, 'Not Found', 'no such route');
    if (req.method === 'POST') {
      this.counts.logins++;
      const auth = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}').auth;
      const user = auth?.identity?.password?.user;
      const project = auth?.scope?.project;
      if (
        user?.name !== SERVICE.user ||
        user?.password !== SERVICE.password ||
        user?.domain?.name !== 'Default' ||
        project?.name !== SERVICE.project ||
        project?.domain?.name !== 'Default'
      ) {
        return error(401, 'Unauthorized', 'The request you have made requires authentication.');
      }
      const token = `svc${randomBytes(16).toString('hex')}`;
      const issued: Issued = {
        userId: 'cairn-user',
        projectId: 'service-project',
        roles: ['admin', 'service'],
        expiresAt: this.now() + this.serviceTokenMs,
        service: true,
      };
      this.tokens.set(token, issued);
      return send(201, this.body(issued), { 'X-Subject-Token': token });
    }
    if (req.method === 'GET') {
      this.counts.validations++;
      const caller = this.valid(req.headers['x-auth-token'] as string | undefined);
      if (!caller?.service) {
        return send(
          401,
          { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } },
          { 'WWW-Authenticate': `Keystone uri="${this.url}"` },
        );
      }
      const subject = this.valid(req.headers['x-subject-token'] as string | undefined);
      if (!subject) return error(404, 'Not Found', 'Could not recognize Fernet token');
      return send(200, this.body(subject));
    }
    return error(405, 'Method Not Allowed', 'no');
  }
}
