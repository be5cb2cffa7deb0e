import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** A keep-alive HTTP client for one cairn endpoint (loopback only). */
export class Client {
  readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly origin: string,
    readonly headers: Record<string, string>,
    maxSockets = 64,
  ) {
    const u = new URL(origin);
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '::1') {
      throw new Error(`the benchmark only talks to loopback, not ${u.hostname}`);
    }
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request; resolves with the status and the raw body (not parsed). */
  raw(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: payload
            ? { ...this.headers, 'content-type': 'application/json', 'content-length': String(payload.length) }
            : this.headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Sends one request and parses a JSON answer; throws unless the status is `expect`. */
  async json<T = unknown>(method: string, path: string, body?: unknown, expect: number | number[] = [200, 202]): Promise<T> {
    const { status, text } = await this.raw(method, path, body);
    const ok = Array.isArray(expect) ? expect.includes(status) : status === expect;
    if (!ok) throw new Error(`${method} ${path} answered ${status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Status only; the body is read and dropped (the load generator's request). */
  status(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, method: 'GET', path, agent: this.agent, headers: this.headers },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadOptions {
  /** Concurrent connections, each with one request in flight (closed loop). */
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Hard cap on requests, whatever the duration. */
  readonly maxRequests?: number;
  /** The path of the next request (may vary per request). */
  readonly path: () => string;
}

export interface LoadResult {
  /** Requests completed inside the measuring window. */
  readonly requests: number;
  /** Every request sent, warm-up included. */
  readonly sent: number;
  /** Of those, answers other than 200 or transport errors. */
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly latenciesMs: Float64Array;
}

/**
 * A closed-loop load generator: `connections` loops each send a request,
 * wait for the whole answer, and send the next, for warm-up plus duration.
 * Only requests that start after the warm-up and end inside the window count.
 */
export async function runLoad(client: Client, opts: LoadOptions): Promise<LoadResult> {
  const maxRequests = opts.maxRequests ?? 2_000_000;
  const t0 = performance.now();
  const windowStart = t0 + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  const latencies = new Float64Array(maxRequests);
  let recorded = 0;
  let sent = 0;
  let errors = 0;
  let firstError: string | undefined;

  const loop = async () => {
    while (sent < maxRequests) {
      const start = performance.now();
      if (start >= windowEnd) return;
      sent++;
      let status = 0;
      try {
        status = await client.status(opts.path());
      } catch (err) {
        firstError ??= String(err);
      }
      const end = performance.now();
      if (start >= windowStart && end <= windowEnd) {
        latencies[recorded++] = end - start;
        if (status !== 200) {
          errors++;
          firstError ??= `HTTP ${status}`;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, loop));
  const measuredMs = Math.min(opts.durationMs, performance.now() - windowStart);
  const lat = latencies.subarray(0, recorded).sort();
  const pick = (p: number) => (recorded ? lat[Math.min(recorded, Math.max(1, Math.ceil((p / 100) * recorded))) - 1]! : NaN);
  if (errors > 0) console.warn(`  warning: ${errors} of ${recorded} requests failed (first: ${firstError})`);
  return {
    requests: recorded,
    sent,
    errors,
    requestsPerSecond: recorded / (measuredMs / 1000),
    p50Ms: pick(50),
    p99Ms: pick(99),
    latenciesMs: lat,
  };
}

/** Runs `task(i)` for i in 0..count-1 with at most `concurrency` in flight; resolves when all are done. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
