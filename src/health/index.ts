import os from 'node:os';
import type { Request, Response } from 'express';
import type { Db } from '../db/connection';
import type { Authenticator } from '../auth/identity';
import type { Transport } from '../workers/transport';

/**
 * `ok` and `degraded` leave the process available (200: a degraded transport still
 * takes work, e.g. while it reconnects); `down` makes it unavailable (503).
 */
export type HealthState = 'ok' | 'degraded' | 'down';

export interface HealthResult {
  readonly state: HealthState;
  /** What is wrong, or what the check saw (detailed answers only). */
  readonly details?: string;
}

/** One pluggable check (oslo.middleware's healthcheck backend): the database, the transport, anything else. */
export interface HealthCheck {
  /** Shown as the result's `class` in detailed answers, e.g. `DatabaseCheck`. */
  readonly name: string;
  check(): Promise<HealthResult>;
}

export interface CheckOutcome {
  readonly name: string;
  readonly state: HealthState;
  readonly available: boolean;
  readonly reason: string;
  readonly details: string;
}

/**
 * The checks of one process and their verdict. A check that does not answer
 * within `timeoutMs` is down (a load balancer must get its 503 promptly).
 */
export class Health {
  private readonly checks: HealthCheck[] = [];

  constructor(private readonly timeoutMs = 800) {}

  register(check: HealthCheck): this {
    this.checks.push(check);
    return this;
  }

  async run(): Promise<{ healthy: boolean; results: CheckOutcome[] }> {
    const results = await Promise.all(
      this.checks.map(async (c): Promise<CheckOutcome> => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<HealthResult>((resolve) => {
          timer = setTimeout(() => resolve({ state: 'down', details: `no answer in ${this.timeoutMs} ms` }), this.timeoutMs);
        });
        let r: HealthResult;
        try {
          r = await Promise.race([c.check(), timeout]);
        } catch (err) {
          r = { state: 'down', details: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
        const what = c.name.replace(/Check$/, '').toLowerCase();
        const reason =
          r.state === 'ok' ? 'OK' : `${what} ${r.state === 'down' ? 'unreachable' : 'degraded'}${r.details ? `: ${r.details}` : ''}`;
        return { name: c.name, state: r.state, available: r.state !== 'down', reason, details: r.details ?? '' };
      }),
    );
    return { healthy: results.every((r) => r.available), results };
  }
}

/** `SELECT 1` on the pool. */
export function databaseCheck(db: Db): HealthCheck {
  return {
    name: 'DatabaseCheck',
    async check() {
      await db.raw('SELECT 1');
      return { state: 'ok', details: `${db.client.config.client === 'pg' ? 'postgresql' : 'pglite'} answers` };
    },
  };
}

/** The transport's own view (`Transport.health`); one without it is ok while the process runs. */
export function transportCheck(transport: Transport): HealthCheck {
  return {
    name: 'TransportCheck',
    async check() {
      return transport.health ? transport.health() : { state: 'ok', details: 'in-process' };
    },
  };
}

export interface HealthEndpointOptions {
  /** Detailed answers for admins: a request with a token is authenticated (401 as the API's for a bad one). */
  readonly authenticate?: Authenticator;
}

/**
 * `GET|HEAD /healthcheck` as oslo.middleware's healthcheck app answers it:
 * 200 `OK` (HEAD: 204), 503 with the reasons when a check is down; the body
 * follows Accept (text/plain first, text/html, application/json). Open to
 * anyone (load balancers); a caller with an admin token gets oslo's
 * `detailed` JSON/HTML (check classes and details, host, time, platform,
 * process figures).
 */
export function healthEndpoint(health: Health, opts: HealthEndpointOptions = {}) {
  return async (req: Request, res: Response): Promise<void> => {
    let detailed = false;
    if (opts.authenticate && req.get('x-auth-token')) {
      const identity = await opts.authenticate(req, res);
      if (!identity) return;
      detailed = identity.roles.includes('admin');
    }
    const { healthy, results } = await health.run();
    res.set('Cache-Control', 'no-store');
    if (req.method === 'HEAD') {
      res
        .status(healthy ? 204 : 503)
        .type('text/plain')
        .end();
      return;
    }
    res.status(healthy ? 200 : 503);
    // oslo lists each backend's reason; here the checks that are not ok, or one `OK`.
    const shown = results.filter((r) => r.state !== 'ok');
    const reasons = shown.length ? shown.map((r) => r.reason) : ['OK'];
    const accept = req.accepts(['text/plain', 'text/html', 'application/json']) || 'text/plain';
    if (accept === 'application/json') {
      const body = detailed
        ? {
            detailed: true,
            hostname: os.hostname(),
            now: new Date().toISOString(),
            node_version: process.version,
            platform: `${os.type()}-${os.release()}-${os.arch()}`,
            pid: process.pid,
            uptime_seconds: Math.round(process.uptime()),
            memory: process.memoryUsage(),
            reasons: results.map((r) => ({ reason: r.reason, details: r.details, class: r.name, state: r.state })),
          }
        : { detailed: false, reasons };
      res.type('application/json').send(JSON.stringify(body, null, 4));
      return;
    }
    if (accept === 'text/html') {
      const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      const rows = detailed
        ? results.map((r) => `<TR><TD>${esc(r.name)}</TD><TD>${esc(r.reason)}</TD><TD>${esc(r.details)}</TD></TR>`).join('\n')
        : reasons.map((r) => `<TR><TD>${esc(r)}</TD></TR>`).join('\n');
      res
        .type('text/html')
        .send(
          `<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n` +
            `<H2>Result of ${results.length} checks:</H2>\n<TABLE border="1">\n<TBODY>\n${rows}\n</TBODY>\n</TABLE>\n</BODY>\n</HTML>`,
        );
      return;
    }
    res.type('text/plain').send(reasons.join('\n'));
  };
}
