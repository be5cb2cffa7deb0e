/**
 * `cairn-manage` output for operators: progress on stderr (plain lines, as these runs have no terminal)
 * for image import and reconcile, and `--json` on every listing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { client, poll, Suite, type CairnProcess } from './support';

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create();
  api = await suite.startApi();
  await suite.startWorker();
}, 60_000);

afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

test('image import shows its progress on stderr and its result on stdout', async () => {
  const file = path.join(suite.dataDir, 'img.raw');
  fs.writeFileSync(file, Buffer.alloc(3 * 1048576, 7));
  const res = await suite.manage('image', 'import', 'progress-img', file);
  expect(res.code).toBe(0);
  expect(JSON.parse(res.stdout)).toMatchObject({ name: 'progress-img', status: 'active', size: 3 * 1048576 });
  const lines = res.stderr.trimEnd().split('\n');
  expect(lines.at(-1)).toBe('image import progress-img: 100% (3.0 MiB of 3.0 MiB)');
  expect(lines.every((l) => /^image import progress-img: \d+% \(/.test(l))).toBe(true);

  const images = await suite.manage('image', 'list', '--json');
  expect(JSON.parse(images.stdout)).toEqual([expect.objectContaining({ name: 'progress-img', status: 'active' })]);
});

test('every listing offers --json; reconcile shows a step per backend', async () => {
  const created = await http.post('/volumes', { volume: { size: 1, name: 'json-listed' } });
  const id = created.body.volume.id;
  await poll('available', async () => (await http.get(`/volumes/${id}`)).body.volume.status === 'available');

  const volumes = JSON.parse((await suite.manage('volume', 'list', '--json')).stdout);
  expect(volumes).toEqual(expect.arrayContaining([expect.objectContaining({ id, display_name: 'json-listed', status: 'available' })]));
  const services = JSON.parse((await suite.manage('service', 'list', '--json')).stdout);
  expect(services.map((s: any) => s.binary).sort()).toEqual(['cinder-scheduler', 'cinder-volume']);
  expect(JSON.parse((await suite.manage('server', 'list', '--json')).stdout)).toEqual([]);
  expect(JSON.parse((await suite.manage('storage', 'diagnose', '--json')).stdout)).toEqual(expect.any(Array));
  expect(JSON.parse((await suite.manage('quota', 'verify', '--json')).stdout)).toHaveProperty('violations', []);

  const rec = await suite.manage('reconcile', '--json');
  expect(rec.code).toBe(0);
  expect(JSON.parse(rec.stdout)).toEqual([{ backend: 'file', differences: [] }]);
  expect(rec.stderr).toBe('reconcile: 0% (0/1) backend file\nreconcile: 100% (1/1) done\n');
});

test('db purge deletes the finished tasks older than its age, and refuses an age that is not a number of days', async () => {
  const created = await http.post('/volumes', { volume: { size: 1, name: 'purged-task' } });
  const id = created.body.volume.id;
  await poll('available', async () => (await http.get(`/volumes/${id}`)).body.volume.status === 'available');
  await poll('its task done', async () => {
    const { rows } = await suite.pool.query(`SELECT state FROM tasks WHERE resource_id = $1`, [id]);
    return rows[0]?.state === 'done';
  });

  // Finished nine days ago: a purge of what ended over ten days ago keeps it, one of over seven does not.
  await suite.pool.query(`UPDATE tasks SET completed_at = now() - interval '9 days' WHERE resource_id = $1`, [id]);
  expect(JSON.parse((await suite.manage('db', 'purge', '10', '--json')).stdout)).toEqual({ tasks: 0, messages: 0 });
  const purged = await suite.manage('db', 'purge', '7');
  expect(purged).toMatchObject({ code: 0 });
  expect(purged.stdout).toMatch(/^purged [1-9]\d* finished task\(s\), 0 expired message\(s\)$/m);
  const { rows } = await suite.pool.query(`SELECT count(*)::int AS n FROM tasks WHERE resource_id = $1`, [id]);
  expect(rows[0].n).toBe(0);
  expect((await http.get(`/volumes/${id}`)).body.volume.status).toBe('available');

  const refused = await suite.manage('db', 'purge', 'ten');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/age_in_days must be a whole number of days, got ten/);
});
