/**
 * Two `cairn worker` processes (the built ones) on two "hosts" with
 * differing copies of ExtStorage providers, sharing one PostgreSQL
 * database and broker: `cairn-manage storage diagnose` must report the
 * mismatch, the invalid copy and the missing one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { deleteTopology } from '../../src/workers/amqpTransport';
import { EXAMPLES } from '../helpers/extstorage';
import { AMQP_URL, CairnProcess, poll, Suite } from './support';

const ROOT = path.resolve(__dirname, '../..');
const CAIRN_JS = path.join(ROOT, 'dist/src/cli/cairn.js');
const BACKEND = 'ext';

let suite: Suite;

/** `cairn worker --backend ext` as host `host` with its own provider directory; ready at its first heartbeat. */
async function startWorker(host: string, providers: string): Promise<CairnProcess> {
  const env = suite.env({ CAIRN_HOSTNAME: host, CAIRN_EXTSTORAGE_PATH: providers });
  const child = spawn(process.execPath, [CAIRN_JS, 'worker', '--backend', BACKEND], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const worker = new CairnProcess(`cairn worker ${host}`, child);
  suite.procs.push(worker);
  await poll(
    `the heartbeat of ${host}@${BACKEND}`,
    async () => {
      worker.assertRunning();
      const { rows } = await suite.pool.query('SELECT 1 FROM services WHERE "binary" = \'cinder-volume\' AND host = $1', [
        `${host}@${BACKEND}`,
      ]);
      return rows.length === 1;
    },
    { diag: () => worker.output() },
  );
  return worker;
}

beforeAll(async () => {
  suite = await Suite.create({ CAIRN_BACKENDS: BACKEND, CAIRN_BACKEND_EXT_DRIVER: 'extstorage' });
  const migrated = await suite.manage('db', 'migrate');
  expect(migrated.code).toBe(0);
  // Host a: both examples as shipped, plus one provider only it has.
  const a = path.join(suite.dataDir, 'providers-a');
  const b = path.join(suite.dataDir, 'providers-b');
  for (const p of ['filevol', 'recorder']) fs.cpSync(path.join(EXAMPLES, p), path.join(a, p), { recursive: true });
  fs.cpSync(path.join(EXAMPLES, 'recorder'), path.join(a, 'only-a'), { recursive: true });
  // Host b: filevol edited locally, recorder without its grow script.
  for (const p of ['filevol', 'recorder']) fs.cpSync(path.join(EXAMPLES, p), path.join(b, p), { recursive: true });
  fs.appendFileSync(path.join(b, 'filevol', 'create'), '# edited on host b only\n');
  fs.rmSync(path.join(b, 'recorder', 'grow'));
  await startWorker(`${suite.hostname}-a`, a);
  await startWorker(`${suite.hostname}-b`, b);
}, 60_000);

afterAll(async () => {
  await suite?.cleanup();
  await deleteTopology(AMQP_URL, suite.prefix, [BACKEND]).catch(() => {});
}, 60_000);

test('storage diagnose reports the checksum mismatch, the invalid copy and the missing provider; exit 1', async () => {
  const [ha, hb] = [`${suite.hostname}-a@${BACKEND}`, `${suite.hostname}-b@${BACKEND}`];
  const out = await suite.manage('storage', 'diagnose');
  expect(out.code).toBe(1);
  expect(out.stdout).toMatch(new RegExp(`^filevol: MISMATCH — checksums differ: ${ha}=[0-9a-f]{12}, ${hb}=[0-9a-f]{12}$`, 'm'));
  expect(out.stdout).toMatch(new RegExp(`^only-a: MISMATCH — missing on ${hb}$`, 'm'));
  expect(out.stdout).toMatch(new RegExp(`^recorder: MISMATCH — invalid on ${hb}: grow is missing \\(ENOENT\\); checksums differ`, 'm'));
  expect(out.stdout).toMatch(new RegExp(`^filevol\\s+${hb}\\s+up\\s+valid\\s+[0-9a-f]{12}\\s+checksum differs$`, 'm'));

  const json = JSON.parse((await suite.manage('storage', 'diagnose', '--json')).stdout);
  const filevol = json.find((d: { provider: string }) => d.provider === 'filevol');
  expect(filevol.workers.map((w: { worker: string; state: string }) => [w.worker, w.state])).toEqual([
    [ha, 'valid'],
    [hb, 'valid'],
  ]);
  expect(filevol.workers[0].checksum).not.toBe(filevol.workers[1].checksum);
}, 60_000);

test("storage info shows a provider's parameters per copy", async () => {
  const out = await suite.manage('storage', 'info', 'recorder');
  expect(out.code).toBe(0);
  expect(out.stdout).toContain('provider recorder (reported by workers)');
  expect(out.stdout).toMatch(/^ {2}log +File the calls are appended to/m);
  expect(out.stdout).toMatch(/^ {2}invalid on .*-b@ext/m);
  expect((await suite.manage('storage', 'info', 'nosuch')).code).toBe(1);
}, 60_000);
