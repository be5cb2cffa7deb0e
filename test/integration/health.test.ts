/**
 * /healthcheck on real PostgreSQL: `cairn api` and `cairn worker` reach the shared
 * PostgreSQL through a TCP proxy in this test (ports 18180-18189). Cutting the proxy
 * makes both answer 503 within a second; restoring it brings back 200. The shared
 * PostgreSQL itself is never stopped.
 */
import net from 'node:net';
import { PG_ADMIN_URL, poll, Suite, type CairnProcess } from './support';

const PROXY_PORT = 18182;
const WORKER_PORT = 18183;

/** A TCP proxy to PostgreSQL that can be cut (listener closed, every connection destroyed) and restored. */
class Proxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    private readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

let suite: Suite;
let api: CairnProcess;
let worker: CairnProcess;
let proxy: Proxy;

beforeAll(async () => {
  suite = await Suite.create();
  const pg = new URL(PG_ADMIN_URL);
  proxy = new Proxy(PROXY_PORT, { host: pg.hostname, port: Number(pg.port || 5432) });
  await proxy.start();
  const viaProxy = new URL(suite.databaseUrl);
  viaProxy.host = `127.0.0.1:${PROXY_PORT}`;
  const env = { DATABASE_URL: viaProxy.toString(), CAIRN_HEARTBEAT_SECONDS: '1' };
  api = await suite.startApi({ env });
  worker = await suite.startWorker({ env: { ...env, CAIRN_WORKER_PORT: String(WORKER_PORT) } });
}, 90_000);

afterAll(async () => {
  await proxy?.cut();
  await suite?.cleanup();
}, 60_000);

async function health(url: string, accept = 'text/plain'): Promise<{ status: number; text: string; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${url}/healthcheck`, { headers: { Accept: accept, Connection: 'close' } });
  return { status: res.status, text: await res.text(), ms: Date.now() - t0 };
}

test('the API and the worker answer 503 within a second of the database going away, and 200 once it is back', async () => {
  const workerUrl = `http://127.0.0.1:${WORKER_PORT}`;
  expect(await health(api.url)).toMatchObject({ status: 200, text: 'OK' });
  expect(await health(workerUrl)).toMatchObject({ status: 200, text: 'OK' });
  const metrics = await fetch(`${workerUrl}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^cairn_db_pool_connections\{state="max"\} 10$/m);

  await proxy.cut();
  const down = await health(api.url);
  expect(down.status).toBe(503);
  expect(down.text).toMatch(/^database unreachable: /);
  const workerDown = await health(workerUrl);
  expect(workerDown.status).toBe(503);
  // "Within a second": each check gives up after 800 ms, so the first request after the cut is answered in time.
  expect(down.ms).toBeLessThan(1000);
  expect(workerDown.ms).toBeLessThan(1000);
  const detailed = JSON.parse(
    await fetch(`${api.url}/healthcheck`, {
      headers: { Accept: 'application/json', 'X-Auth-Token': '1d2c3b4a59687f6e5d4c3b2a1f0e9d8c:0a1b2c3d4e5f40718293a4b5c6d7e8f9' },
    }).then((r) => r.text()),
  );
  expect(detailed.reasons).toEqual([
    expect.objectContaining({ class: 'DatabaseCheck', state: 'down' }),
    { class: 'TransportCheck', state: 'ok', reason: 'OK', details: expect.stringMatching(/^AMQP connected/) },
  ]);

  await proxy.start();
  await poll('the API healthy again', async () => (await health(api.url)).status === 200, { diag: () => suite.output() });
  await poll('the worker healthy again', async () => (await health(workerUrl)).status === 200, { diag: () => suite.output() });
  expect(api.running && worker.running).toBe(true);
}, 60_000);
