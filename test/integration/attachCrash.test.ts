/**
 * The API SIGKILLed in the middle of `POST /servers/{id}/os-volume_attachments`
 * (PostgreSQL + RabbitMQ, separate worker): the attach answers only once the
 * volume is connected and completed, so its process holds the only memory of
 * the unfinished steps. The next API's sweep finds the mapping nobody keeps
 * fresh and undoes the attach (serverOps.ts repairAttaches): mapping gone,
 * connection taken back by a detach task, the volume available at the top
 * level. Nothing stays `attaching` without an operator.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HEADERS, poll, PollAbort, PROJECT, Suite, type CairnProcess } from './support';

// Short leases: the sweep runs every 0.5 s and a mapping untouched for 4 s is abandoned.
const LEASE = { CAIRN_TASK_LEASE_SECONDS: '2' };
const NOVA = { 'X-Auth-Token': HEADERS['X-Auth-Token'], 'OpenStack-API-Version': 'compute 2.89', 'Content-Type': 'application/json' };

let suite: Suite;
let api: CairnProcess;
const diag = () => suite.output();

beforeAll(async () => {
  suite = await Suite.create(LEASE);
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

async function call(prefix: 'v3' | 'v2.1', method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}/${prefix}/${PROJECT}${p}`, {
    method,
    headers: prefix === 'v3' ? { ...HEADERS, 'Content-Type': 'application/json' } : NOVA,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function volumeStatus(id: string): Promise<string | undefined> {
  const { rows } = await suite.pool.query('SELECT status FROM volumes WHERE id = $1', [id]);
  return rows[0]?.status;
}

test('an API killed while the attach waits for the worker: the next API undoes the attach; the volume ends available, unmapped, at the top level', async () => {
  api = await suite.startApi();
  const worker = await suite.startWorker();
  const boot = await call('v2.1', 'POST', '/servers', {
    server: {
      name: 'crash',
      flavorRef: '1',
      networks: 'none',
      imageRef: '',
      block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: 0 }],
    },
  });
  expect(boot.status).toBe(202);
  const serverId = boot.body.server.id as string;
  await poll(
    'the server ACTIVE',
    async () => {
      const s = (await call('v2.1', 'GET', `/servers/${serverId}`)).body?.server;
      if (s?.status === 'ERROR') throw new PollAbort(`server ERROR: ${JSON.stringify(s.fault)}`);
      return s?.status === 'ACTIVE';
    },
    { diag, timeoutMs: 30_000 },
  );
  const created = await call('v3', 'POST', '/volumes', { volume: { size: 1, name: 'data' } });
  const volumeId = created.body.volume.id as string;
  await poll('the volume available', async () => (await volumeStatus(volumeId)) === 'available', { diag });

  // A worker that connects, then takes 3 s to record it: the window in which the API waits.
  await worker.kill('SIGTERM');
  await suite.startWorker({ env: { CAIRN_FAULT_DRIVER_DELAY_MS: '3000' } });
  const attach = call('v2.1', 'POST', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } }).catch(
    (err: unknown) => err,
  );
  await poll(
    "the connect task claimed and the file under the server's folder",
    async () => {
      const { rows } = await suite.pool.query("SELECT state FROM tasks WHERE resource_id = $1 AND kind = 'volume.attach'", [volumeId]);
      return rows[0]?.state === 'running' && fs.existsSync(path.join(suite.backendDir, serverId, `volume-${volumeId}`));
    },
    { diag, intervalMs: 10 },
  );
  const port = api.port;
  await expect(api.kill('SIGKILL')).resolves.toEqual({ code: null, signal: 'SIGKILL' });
  expect(String(await attach)).toMatch(/fetch failed/); // the caller never got an answer

  // The worker records the connection; nobody completes the attach.
  await poll(
    'the connection recorded',
    async () => {
      const { rows } = await suite.pool.query('SELECT attach_status, connection_info FROM volume_attachments WHERE volume_id = $1', [
        volumeId,
      ]);
      return rows[0]?.attach_status === 'attaching' && rows[0]?.connection_info !== null;
    },
    { diag, timeoutMs: 15_000 },
  );
  expect(await volumeStatus(volumeId)).toBe('attaching');
  const mapped = await suite.pool.query('SELECT 1 FROM block_device_mappings WHERE volume_id = $1', [volumeId]);
  expect(mapped.rows).toHaveLength(1);

  api = await suite.startApi({ port });
  await poll('the volume available again', async () => (await volumeStatus(volumeId)) === 'available', { diag, timeoutMs: 30_000 });
  expect((await suite.pool.query('SELECT 1 FROM block_device_mappings WHERE volume_id = $1', [volumeId])).rows).toEqual([]);
  expect((await suite.pool.query('SELECT 1 FROM volume_attachments WHERE volume_id = $1', [volumeId])).rows).toEqual([]);
  expect(fs.existsSync(suite.volumeFile(volumeId))).toBe(true);
  expect(fs.existsSync(path.join(suite.backendDir, serverId, `volume-${volumeId}`))).toBe(false);
  const { rows: tasks } = await suite.pool.query('SELECT kind, state FROM tasks WHERE resource_id = $1 ORDER BY created_at', [volumeId]);
  expect(tasks).toEqual([
    { kind: 'volume.create', state: 'done' },
    { kind: 'volume.attach', state: 'done' },
    { kind: 'volume.detach', state: 'done' },
  ]);
  // The server is untouched: ACTIVE with its root, and the volume attaches again.
  const s = (await call('v2.1', 'GET', `/servers/${serverId}`)).body.server;
  expect(s.status).toBe('ACTIVE');
  expect(s['os-extended-volumes:volumes_attached']).toHaveLength(1);
  expect((await call('v2.1', 'POST', `/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } })).status).toBe(200);
}, 180_000);
