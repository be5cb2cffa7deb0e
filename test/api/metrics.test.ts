/**
 * /metrics during a short load: the counters the load caused (requests by operation id,
 * status class and microversion; tasks; driver operations), the gauges read on scrape
 * (volumes by status, pool, queue depth) and bounded labels (no resource ids).
 */
import request from 'supertest';
import { PROJECT, TOKEN, liftQuotas, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** The samples of one metric name as `{labels} value` pairs. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[k!] = v!;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

const value = (text: string, name: string, want: Record<string, string>) =>
  samples(text, name)
    .filter((s) => Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);

describe('GET /metrics', () => {
  let cairn: TestCairn;
  beforeAll(async () => {
    cairn = await startTestCairn();
    await liftQuotas(cairn.url);
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it('counts the requests, tasks and driver operations of a short load, and reads volumes by status on scrape', async () => {
    const before = (await request(cairn.url).get('/metrics')).text;
    const N = 6;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await request(cairn.url)
        .post(`/v3/${PROJECT}/volumes`)
        .set(MV)
        .send({ volume: { size: 1, name: `m${i}` } });
      expect(res.status).toBe(202);
      ids.push(res.body.volume.id);
    }
    for (const id of ids) {
      await waitFor(
        async () => (await request(cairn.url).get(`/v3/${PROJECT}/volumes/${id}`).set(MV)).body.volume.status === 'available',
        15_000,
        `volume ${id} available`,
      );
    }
    // 3 misses at an older microversion, and a body the schema refuses.
    for (let i = 0; i < 3; i++) {
      const res = await request(cairn.url)
        .get(`/v3/${PROJECT}/volumes/00000000-0000-0000-0000-00000000000${i}`)
        .set({ ...MV, 'OpenStack-API-Version': 'volume 3.40' });
      expect(res.status).toBe(404);
    }
    expect(
      (
        await request(cairn.url)
          .post(`/v3/${PROJECT}/volumes`)
          .set(MV)
          .send({ volume: { size: 'x' } })
      ).status,
    ).toBe(400);
    const del = await request(cairn.url).delete(`/v3/${PROJECT}/volumes/${ids[0]}`).set(MV);
    expect(del.status).toBe(202);
    await waitFor(async () => (await request(cairn.url).get(`/v3/${PROJECT}/volumes/${ids[0]}`).set(MV)).status === 404, 15_000, 'deleted');

    const res = await request(cairn.url).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = res.text;
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);

    expect(
      delta('cairn_http_requests_total', { api: 'volume', operation: 'createVolume', status_class: '2xx', microversion: '3.70' }),
    ).toBe(N);
    expect(
      delta('cairn_http_requests_total', { api: 'volume', operation: 'createVolume', status_class: '4xx', microversion: '3.70' }),
    ).toBe(1);
    expect(delta('cairn_http_requests_total', { api: 'volume', operation: 'showVolume', status_class: '4xx', microversion: '3.40' })).toBe(
      3,
    );
    expect(delta('cairn_http_requests_total', { api: 'volume', operation: 'deleteVolume', status_class: '2xx' })).toBe(1);
    expect(delta('cairn_http_request_duration_seconds_count', { api: 'volume', operation: 'createVolume', status_class: '2xx' })).toBe(N);
    expect(value(after, 'cairn_http_request_duration_seconds_bucket', { operation: 'createVolume', status_class: '2xx', le: '+Inf' })).toBe(
      value(after, 'cairn_http_request_duration_seconds_count', { operation: 'createVolume', status_class: '2xx' }),
    );

    expect(delta('cairn_tasks_total', { kind: 'volume.create', outcome: 'done' })).toBe(N);
    expect(delta('cairn_tasks_total', { kind: 'volume.delete', outcome: 'done' })).toBe(1);
    expect(delta('cairn_task_duration_seconds_count', { kind: 'volume.create', outcome: 'done' })).toBe(N);
    expect(delta('cairn_driver_operation_duration_seconds_count', { backend: 'file', operation: 'create' })).toBe(N);
    expect(delta('cairn_driver_operation_duration_seconds_count', { backend: 'file', operation: 'remove' })).toBe(1);
    expect(value(after, 'cairn_driver_operation_failures_total', { backend: 'file' })).toBe(0);

    expect(value(after, 'cairn_volumes', { status: 'available' })).toBe(N - 1);
    expect(samples(after, 'cairn_task_queue_depth').every((s) => s.value === 0)).toBe(true);
    expect(value(after, 'cairn_db_pool_connections', { state: 'max' })).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^# TYPE cairn_snapshots gauge$/m);
    expect(after).toMatch(/^# TYPE cairn_servers gauge$/m);
    expect(after).toMatch(/^# TYPE cairn_backups gauge$/m);
    expect(value(after, 'process_cpu_seconds_total', {})).toBeGreaterThan(0);
    expect(after).toMatch(/^nodejs_heap_size_used_bytes /m);

    // Bounded cardinality: no label value is a resource id.
    const labelValues = [...after.matchAll(/="([^"]*)"/g)].map((m) => m[1]!);
    expect(labelValues.filter((v) => UUID.test(v))).toEqual([]);
  });

  it('counts the compute and image APIs by their own operation ids and microversions', async () => {
    expect(
      (await request(cairn.url).get(`/v2.1/${PROJECT}/flavors`).set({ 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'compute 2.60' }))
        .status,
    ).toBe(200);
    expect((await request(cairn.url).get('/v2/images').set({ 'X-Auth-Token': TOKEN })).status).toBe(200);
    expect((await request(cairn.url).get('/no/such/path')).status).toBe(404);
    const text = (await request(cairn.url).get('/metrics')).text;
    expect(value(text, 'cairn_http_requests_total', { api: 'compute', status_class: '2xx', microversion: '2.60' })).toBe(1);
    expect(samples(text, 'cairn_http_requests_total').find((s) => s.labels.api === 'compute')!.labels.operation).toMatch(/^[a-zA-Z]+$/);
    expect(value(text, 'cairn_http_requests_total', { api: 'image', status_class: '2xx', microversion: '' })).toBe(1);
    expect(value(text, 'cairn_http_requests_total', { api: 'other', operation: 'unmatched', status_class: '4xx' })).toBe(1);
  });
});

describe('GET /healthcheck (oslo.middleware healthcheck)', () => {
  let cairn: TestCairn;
  beforeAll(async () => {
    cairn = await startTestCairn();
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it("answers 200 OK as text without a token, 204 to HEAD, and oslo's non-detailed JSON", async () => {
    const res = await request(cairn.url).get('/healthcheck');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe('OK');
    const head = await request(cairn.url).head('/healthcheck');
    expect(head.status).toBe(204);
    const json = await request(cairn.url).get('/healthcheck').set('Accept', 'application/json');
    expect(json.status).toBe(200);
    expect(json.body).toEqual({ detailed: false, reasons: ['OK'] });
    const html = await request(cairn.url).get('/healthcheck').set('Accept', 'text/html');
    expect(html.text).toContain('<TITLE>Healthcheck Status</TITLE>');
  });

  it('gives an admin the detailed JSON: each check with its class and details', async () => {
    const res = await request(cairn.url).get('/healthcheck').set({ Accept: 'application/json', 'X-Auth-Token': TOKEN });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ detailed: true, pid: expect.any(Number) });
    expect(res.body.reasons).toEqual([
      { class: 'DatabaseCheck', reason: 'OK', state: 'ok', details: 'pglite answers' },
      { class: 'TransportCheck', reason: 'OK', state: 'ok', details: 'in-process' },
    ]);
  });

  it('reports 503 with the reason when a check is down, 200 with a degraded one', async () => {
    let state: 'ok' | 'degraded' | 'down' = 'down';
    cairn.health.register({ name: 'ProbeCheck', check: async () => ({ state, details: 'test probe' }) });
    const down = await request(cairn.url).get('/healthcheck');
    expect(down.status).toBe(503);
    expect(down.text).toBe('probe unreachable: test probe');
    expect((await request(cairn.url).head('/healthcheck')).status).toBe(503);
    state = 'degraded';
    const degraded = await request(cairn.url).get('/healthcheck');
    expect(degraded.status).toBe(200);
    expect(degraded.text).toBe('probe degraded: test probe');
  });
});
