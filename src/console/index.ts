import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';

// The static files: `console/` at the repository root (from src/console under jest, dist/src/console when built).
const STATIC_DIR = [path.join(__dirname, '..', '..', 'console'), path.join(__dirname, '..', '..', '..', 'console')].find((p) =>
  fs.existsSync(path.join(p, 'index.html')),
)!;

/**
 * The operator's console at `/console`: plain HTML, CSS and one script (no
 * build step). Everything it shows and does goes through the public API with
 * the operator's token, plus the admin reads under `/v3/{project}/cairn/`.
 * With Keystone, `POST /console/login` trades a user name and password for a
 * project-scoped token (the browser keeps it in sessionStorage); in noauth the
 * token is `<user_id>:<project_id>` as for the API.
 */
export function consoleRouter(config: Config, log: Logger): express.Router {
  const router = express.Router({ strict: true });
  const security = (_req: Request, res: Response, next: () => void) => {
    res.set({
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  };
  router.use(security);
  router.get('/', (req, res) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(302, `${req.baseUrl}/`);
      return;
    }
    res.sendFile(path.join(STATIC_DIR, 'index.html'));
  });
  router.get('/config.json', (_req, res) => {
    res.json({ auth: config.authStrategy });
  });
  router.post('/login', express.json({ limit: '16kb' }), async (req, res) => {
    if (config.authStrategy !== 'keystone' || !config.keystone) {
      res.status(404).json({ error: 'noauth: use the token <user_id>:<project_id>' });
      return;
    }
    const { username, password, project, domain } = (req.body ?? {}) as Record<string, unknown>;
    if (typeof username !== 'string' || typeof password !== 'string' || typeof project !== 'string' || !username || !project) {
      res.status(400).json({ error: 'username, password and project are required' });
      return;
    }
    const dom = typeof domain === 'string' && domain ? domain : 'Default';
    try {
      const kr = await fetch(`${config.keystone.url}/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: { methods: ['password'], password: { user: { name: username, domain: { name: dom }, password } } },
            scope: { project: { name: project, domain: { name: dom } } },
          },
        }),
        signal: AbortSignal.timeout(config.keystone.timeoutMs),
      });
      const body = (await kr.json().catch(() => ({}))) as {
        token?: { user?: { id: string }; project?: { id: string }; roles?: Array<{ name: string }>; expires_at?: string };
      };
      const token = kr.headers.get('x-subject-token');
      if (kr.status !== 201 || !token || !body.token) {
        res.status(401).json({ error: 'Keystone refused the user name, password or project.' });
        return;
      }
      res.json({
        token,
        user_id: body.token.user?.id,
        project_id: body.token.project?.id,
        roles: (body.token.roles ?? []).map((r) => r.name),
        expires_at: body.token.expires_at,
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'console login: Keystone unreachable');
      res.status(503).json({ error: 'Keystone is unreachable.' });
    }
  });
  router.use(express.static(STATIC_DIR, { index: false, maxAge: 0 }));
  return router;
}
