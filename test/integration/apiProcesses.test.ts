/**
 * `cairn api --processes 2` on PostgreSQL and RabbitMQ: two API processes
 * share the port under one supervising process, which migrated the database
 * once; one killed is replaced while the other keeps serving; SIGTERM to the
 * supervisor stops them all.
 */
import fs from 'node:fs';
import { HEADERS, PROJECT, poll, Suite, type CairnProcess } from './support';

let suite: Suite;
let api: CairnProcess;

/** Live child processes of `pid` (from /proc: field 4 of stat is the parent). */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[1]) === pid && fields[0] !== 'Z' ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

beforeAll(async () => {
  suite = await Suite.create();
  api = await suite.startApi({ args: ['--processes', '2'] });
  await suite.startWorker();
}, 60_000);
afterAll(async () => {
  await suite?.cleanup();
});

test('two API processes serve the port; one killed is replaced and the other answers meanwhile', async () => {
  const supervisor = api.child.pid!;
  const first = await poll(
    'two API processes',
    async () => {
      const c = childrenOf(supervisor);
      return c.length === 2 && c;
    },
    { diag: () => suite.output() },
  );
  // A new connection per request, and a time limit: a connection the supervisor hands out in the instant a
  // process dies is lost with it (as with any crashed server), and only the client's timeout ends the wait.
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${api.url}/v3/${PROJECT}${p}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(3_000),
      headers: { ...HEADERS, 'Content-Type': 'application/json', Connection: 'close' },
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const http = { get: (p: string) => call('GET', p), post: (p: string, b: unknown) => call('POST', p, b) };
  const vol = await http.post('/volumes', { volume: { size: 1, name: 'through-two' } });
  expect(vol.status).toBe(202);

  process.kill(first[0]!, 'SIGKILL');
  // The survivor answers meanwhile; the supervisor starts a replacement.
  await poll('an answer from the surviving process', async () => (await http.get(`/volumes/${vol.body.volume.id}`)).status === 200, {
    diag: () => suite.output(),
  });
  const next = await poll(
    'a replacement API process',
    async () => {
      const c = childrenOf(supervisor);
      return c.length === 2 && !c.includes(first[0]!) && c;
    },
    { diag: () => suite.output() },
  );
  expect(next).toContain(first[1]);
  await poll(
    'the volume to be available',
    async () => (await http.get(`/volumes/${vol.body.volume.id}`)).body.volume?.status === 'available',
    { diag: () => suite.output() },
  );

  const exit = await api.kill('SIGTERM', 10_000);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(childrenOf(supervisor)).toEqual([]);
  for (const pid of next) expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
}, 90_000);

test('--processes on the embedded PGlite database is refused with the reason', async () => {
  const { execFile } = await import('node:child_process');
  const path = await import('node:path');
  const env = { ...suite.env(), DATABASE_URL: '' };
  const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [path.resolve(__dirname, '../../dist/src/cli/cairn.js'), 'api', '--processes', '2'],
      { env, timeout: 30_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
    );
  });
  expect(out.code).toBe(1);
  expect(out.stderr).toContain('--processes needs DATABASE_URL (PostgreSQL)');
});
