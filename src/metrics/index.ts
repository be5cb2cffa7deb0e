import { performance } from 'node:perf_hooks';
import type { Request, Response, NextFunction } from 'express';
import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import type { ApiVersion } from '../domain/microversion';

/**
 * cairn's Prometheus metrics (prom-client), one registry per runtime so that
 * several runtimes in one process (tests) do not share counters. Every label
 * is bounded: operation ids of the OpenAPI documents (never resource ids),
 * status classes, microversions, task kinds, backends, driver operations and
 * resource statuses. README "Metrics" lists the names.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests: Counter<'api' | 'operation' | 'status_class' | 'microversion'>;
  readonly httpDuration: Histogram<'api' | 'operation' | 'status_class'>;
  readonly tasks: Counter<'kind' | 'outcome'>;
  readonly taskDuration: Histogram<'kind' | 'outcome'>;
  readonly taskRetries: Counter<'kind'>;
  readonly leaseExpiries: Counter<'kind'>;
  readonly driverDuration: Histogram<'backend' | 'operation'>;
  readonly driverFailures: Counter<'backend' | 'operation'>;
  readonly idempotentReplays: Counter<'operation'>;

  /** Scrape-time collectors that need the database (the API's registry only: one answer per cluster). */
  private readonly collectors: Array<() => Promise<void>> = [];

  constructor(private readonly log?: Logger) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'cairn_http_requests_total',
      help: 'HTTP requests answered, by API, operation id, status class and microversion',
      labelNames: ['api', 'operation', 'status_class', 'microversion'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'cairn_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by API, operation id and status class',
      labelNames: ['api', 'operation', 'status_class'],
      registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.tasks = new Counter({
      name: 'cairn_tasks_total',
      help: 'Tasks finished by this process, by kind and outcome (done, failed, retry)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.taskDuration = new Histogram({
      name: 'cairn_task_duration_seconds',
      help: "Time from a task's claim to its recorded outcome, by kind and outcome",
      labelNames: ['kind', 'outcome'],
      registers,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    });
    this.taskRetries = new Counter({
      name: 'cairn_task_retries_total',
      help: 'Transient task failures given back for a later attempt, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.leaseExpiries = new Counter({
      name: 'cairn_task_lease_expiries_total',
      help: 'Task leases the sweeper found expired (dead or hung worker), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.driverDuration = new Histogram({
      name: 'cairn_driver_operation_duration_seconds',
      help: 'Driver operations (create, attach, copyFrom, …), by backend and operation',
      labelNames: ['backend', 'operation'],
      registers,
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 120, 600],
    });
    this.driverFailures = new Counter({
      name: 'cairn_driver_operation_failures_total',
      help: 'Driver operations that threw, by backend and operation',
      labelNames: ['backend', 'operation'],
      registers,
    });
    this.idempotentReplays = new Counter({
      name: 'cairn_idempotent_replays_total',
      help: 'Creates answered from a stored response (Idempotency-Key retries), by operation id',
      labelNames: ['operation'],
      registers,
    });
  }

  /** The database pool's use, read on scrape (every process). */
  collectPool(db: Db): void {
    const registers = [this.registry];
    const pool = (db.client as { pool?: TarnPool }).pool;
    new Gauge({
      name: 'cairn_db_pool_connections',
      help: 'Database pool connections by state (used, free, pending_acquires, pending_creates, max)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = (db.client as { pool?: TarnPool }).pool ?? pool;
        if (!p) return;
        this.set({ state: 'used' }, p.numUsed());
        this.set({ state: 'free' }, p.numFree());
        this.set({ state: 'pending_acquires' }, p.numPendingAcquires());
        this.set({ state: 'pending_creates' }, p.numPendingCreates());
        this.set({ state: 'max' }, p.max);
      },
    });
  }

  /**
   * Gauges collected on scrape from the database, one grouped query each: resources by status, open tasks
   * per backend and their age. The API's registry only, so a cluster's counts come once per API process.
   */
  collectResources(db: Db): void {
    const registers = [this.registry];
    const guard = (what: string, fn: () => Promise<void>) => async () => {
      try {
        await fn();
      } catch (err) {
        this.log?.warn({ err: (err as Error).message }, `metrics: ${what} not collected`);
      }
    };
    const byStatus = (name: string, help: string, sql: string) => {
      const g = new Gauge({ name, help, labelNames: ['status'], registers });
      this.collectors.push(
        guard(name, async () => {
          const { rows } = (await db.raw(sql)) as { rows: Array<{ status: string; n: string }> };
          g.reset();
          for (const r of rows) g.set({ status: r.status }, Number(r.n));
        }),
      );
    };
    byStatus('cairn_volumes', 'Volumes by status', 'SELECT status, count(*) AS n FROM volumes GROUP BY status');
    byStatus('cairn_snapshots', 'Snapshots by status', 'SELECT status, count(*) AS n FROM snapshots GROUP BY status');
    byStatus(
      'cairn_attachments',
      'Volume attachments by attach_status',
      'SELECT attach_status AS status, count(*) AS n FROM volume_attachments GROUP BY attach_status',
    );
    byStatus(
      'cairn_servers',
      'Servers (not deleted) by vm_state',
      'SELECT vm_state AS status, count(*) AS n FROM servers WHERE deleted_at IS NULL GROUP BY vm_state',
    );
    // Backups are counted once their table exists (a later migration); until then the gauge stays empty.
    const backups = new Gauge({
      name: 'cairn_backups',
      help: 'Backups by status (when the backups table exists)',
      labelNames: ['status'],
      registers,
    });
    this.collectors.push(
      guard('cairn_backups', async () => {
        backups.reset();
        const {
          rows: [t],
        } = (await db.raw("SELECT to_regclass('backups') IS NOT NULL AS present")) as { rows: Array<{ present: boolean }> };
        if (!t?.present) return;
        const { rows } = (await db.raw('SELECT status, count(*) AS n FROM backups GROUP BY status')) as {
          rows: Array<{ status: string; n: string }>;
        };
        for (const r of rows) backups.set({ status: r.status }, Number(r.n));
      }),
    );
    const depth = new Gauge({
      name: 'cairn_task_queue_depth',
      help: 'Open tasks per backend and state (pending, running)',
      labelNames: ['backend', 'state'],
      registers,
    });
    const age = new Gauge({
      name: 'cairn_task_oldest_age_seconds',
      help: 'Age of the oldest open task per backend and state',
      labelNames: ['backend', 'state'],
      registers,
    });
    this.collectors.push(
      guard('tasks', async () => {
        const { rows } = (await db.raw(
          `SELECT backend, state, count(*) AS n, EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS age
           FROM tasks WHERE state IN ('pending', 'running') GROUP BY backend, state`,
        )) as { rows: Array<{ backend: string; state: string; n: string; age: number | string }> };
        depth.reset();
        age.reset();
        for (const r of rows) {
          depth.set({ backend: r.backend, state: r.state }, Number(r.n));
          age.set({ backend: r.backend, state: r.state }, Math.max(0, Number(r.age)));
        }
      }),
    );
  }

  /** The exposition text; database gauges are refreshed first (one grouped query each). */
  async scrape(): Promise<string> {
    await Promise.all(this.collectors.map((c) => c()));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** An express handler for `GET /metrics`. */
  readonly handler = async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const text = await this.scrape();
      res.set('Content-Type', this.contentType).status(200).send(text);
    } catch (err) {
      next(err);
    }
  };

  // --- the request hot path: no allocation per request beyond the histogram's observe -------------------

  /** Middleware: notes the start time; the shared `finish` listener records the request. */
  readonly track = (_req: Request, res: Response, next: NextFunction): void => {
    const l = res.locals as RequestMetricLocals;
    l.metricsStart = performance.now();
    l.metrics = this;
    res.on('finish', onFinish); // `on`, not `once`: no wrapper closure per request; a response finishes once
    next();
  };

  private readonly versionText = new Map<number, string>();

  /** `3.70` for {3,70}, cached (no string built per request). */
  versionLabel(v: ApiVersion | undefined): string {
    if (!v) return '';
    const key = v.major * 1000 + v.minor;
    let s = this.versionText.get(key);
    if (s === undefined) {
      s = `${v.major}.${v.minor}`;
      this.versionText.set(key, s);
    }
    return s;
  }

  /** Label children cached per (api, operation, status class, microversion): a few nested map lookups per request. */
  private readonly children = new Map<
    string,
    Map<string, Map<string, Map<string, { count: Counter.Internal; hist: Histogram.Internal<string> }>>>
  >();

  record(api: string, operation: string, status: number, version: string, seconds: number): void {
    const cls = STATUS_CLASS[Math.floor(status / 100)] ?? 'other';
    let a = this.children.get(api);
    if (!a) this.children.set(api, (a = new Map()));
    let o = a.get(operation);
    if (!o) a.set(operation, (o = new Map()));
    let c = o.get(cls);
    if (!c) o.set(cls, (c = new Map()));
    let ch = c.get(version);
    if (!ch) {
      ch = {
        count: this.httpRequests.labels({ api, operation, status_class: cls, microversion: version }),
        hist: this.httpDuration.labels({ api, operation, status_class: cls }),
      };
      c.set(version, ch);
    }
    ch.count.inc();
    ch.hist.observe(seconds);
  }
}

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** What a request's handlers note for its metric (res.locals). */
export interface RequestMetricLocals {
  metricsStart?: number;
  metrics?: Metrics;
  /** Which API answered: volume, compute, image (else `other`). */
  metricsApi?: string;
  /** The OpenAPI operation id, once routed (else `unmatched`). */
  operation?: string;
  /** The negotiated microversion (volume and compute). */
  version?: ApiVersion;
}

/** One listener shared by every response (`this` is the response): nothing allocated per request. */
function onFinish(this: Response): void {
  const l = this.locals as RequestMetricLocals;
  const m = l.metrics;
  if (!m || l.metricsStart === undefined) return;
  const seconds = (performance.now() - l.metricsStart) / 1000;
  m.record(l.metricsApi ?? 'other', l.operation ?? 'unmatched', this.statusCode, m.versionLabel(l.version), seconds);
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  max: number;
}
