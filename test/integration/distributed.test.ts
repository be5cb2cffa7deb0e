/**
 * The volume flow on real PostgreSQL + RabbitMQ with `cairn api` and
 * `cairn worker` as separate processes (the built ones, as deployed).
 */
import fs from 'node:fs';
import { client, GIB, poll, PollAbort, PROJECT, Suite, type CairnProcess } from './support';

let suite: Suite;
let api: CairnProcess;
let worker: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create();
  api = await suite.startApi(); // migrates the fresh database; the worker does not
  worker = await suite.startWorker();
}, 60_000);

afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

/** Polls a volume through the API until `pred` holds; the processes' output explains a timeout. */
function volumeUntil(id: string, what: string, pred: (status: number, vol: any) => boolean): Promise<any> {
  return poll(
    `volume ${id} ${what}`,
    async () => {
      const res = await http.get(`/volumes/${id}`);
      const status: string | undefined = res.body?.volume?.status;
      if (status?.startsWith('error')) throw new PollAbort(`volume ${id} went to ${status} while waiting until ${what}`);
      return pred(res.status, res.body?.volume) && (res.body?.volume ?? true);
    },
    { diag: () => suite.output() },
  );
}

test('a volume of a new type is created by the worker, shown, renamed, tagged, listed by cairn-manage and deleted', async () => {
  const type = await http.post('/types', { volume_type: { name: `fast-${suite.hostname}` } });
  expect(type.status).toBe(200);
  const typeId: string = type.body.volume_type.id;

  const created = await http.post('/volumes', { volume: { size: 1, name: 'v1', volume_type: typeId } });
  expect(created.status).toBe(202);
  expect(created.body.volume).toMatchObject({ status: 'creating', size: 1, name: 'v1' });
  const id: string = created.body.volume.id;

  const vol = await volumeUntil(id, 'available', (_, v) => v?.status === 'available');
  expect(vol).toMatchObject({
    id,
    size: 1,
    name: 'v1',
    volume_type: `fast-${suite.hostname}`,
    volume_type_id: typeId,
    'os-vol-host-attr:host': `${suite.hostname}@file#file`,
  });
  const file = suite.volumeFile(id);
  const st = fs.statSync(file);
  expect(st.size).toBe(1 * GIB);
  expect(st.blocks * 512).toBeLessThan(GIB); // sparse

  const list = await http.get('/volumes/detail');
  expect(list.status).toBe(200);
  expect(list.body.volumes.map((v: any) => [v.id, v.status])).toContainEqual([id, 'available']);

  const renamed = await http.put(`/volumes/${id}`, { volume: { name: 'v1-renamed', description: 'moved' } });
  expect(renamed.status).toBe(200);
  expect(renamed.body.volume).toMatchObject({ name: 'v1-renamed', description: 'moved' });

  const md = await http.post(`/volumes/${id}/metadata`, { metadata: { owner: 'it', tier: 'gold' } });
  expect(md.status).toBe(200);
  expect(md.body).toEqual({ metadata: { owner: 'it', tier: 'gold' } });
  const shown = await http.get(`/volumes/${id}`);
  expect(shown.body.volume).toMatchObject({ name: 'v1-renamed', metadata: { owner: 'it', tier: 'gold' }, status: 'available' });

  const listed = await suite.manage('volume', 'list');
  expect(listed).toMatchObject({ code: 0 });
  const row = listed.stdout.split('\n').find((l) => l.startsWith(id));
  expect(row).toBeDefined();
  expect(row!.split(/\s+/)).toEqual(expect.arrayContaining([PROJECT, 'v1-renamed', '1', 'available', 'file']));

  const info = await suite.manage('volume', 'info', id);
  expect(info).toMatchObject({ code: 0 });
  expect(JSON.parse(info.stdout)).toMatchObject({
    volume: { id, display_name: 'v1-renamed', status: 'available', backend: 'file', provider_location: file },
    disk: { location: file, exists: true, sizeBytes: GIB },
  });

  const del = await http.delete(`/volumes/${id}`);
  expect(del.status).toBe(202);
  await volumeUntil(id, 'gone (404)', (status) => status === 404);
  expect(fs.existsSync(file)).toBe(false);
  const after = await suite.manage('volume', 'info', id);
  expect(after.code).toBe(1);
  expect(after.stderr).toContain(`volume ${id} not found`);
});

test('os-services and cairn-manage service list show the API as cinder-scheduler and the worker as cinder-volume, both up', async () => {
  const res = await http.get('/os-services');
  expect(res.status).toBe(200);
  const services = res.body.services.map((s: any) => ({ binary: s.binary, host: s.host, state: s.state, status: s.status }));
  expect(services).toEqual(
    expect.arrayContaining([
      { binary: 'cinder-scheduler', host: suite.hostname, state: 'up', status: 'enabled' },
      { binary: 'cinder-volume', host: `${suite.hostname}@file`, state: 'up', status: 'enabled' },
    ]),
  );
  expect(res.body.services).toHaveLength(2);

  const out = await suite.manage('service', 'list');
  expect(out).toMatchObject({ code: 0 });
  const rows = out.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/).slice(0, 4));
  expect(rows).toEqual(
    expect.arrayContaining([
      ['cinder-scheduler', suite.hostname, 'nova', 'up'],
      ['cinder-volume', `${suite.hostname}@file`, 'nova', 'up'],
    ]),
  );
});

test('both processes stop cleanly on SIGTERM', async () => {
  await expect(worker.kill('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
  await expect(api.kill('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
});
