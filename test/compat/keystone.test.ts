/**
 * The real clients with Keystone password auth through the catalog, as a user
 * would: the conformance kit's Keystone (`../shared/conformance/keystone-up.sh`
 * or $CAIRN_CONFORMANCE_KIT's,
 * Debian's keystone on 127.0.0.1:5000), the built all-in-one with
 * AUTH_STRATEGY=keystone on a free port, the catalog's volume and compute
 * entries pointed at it, and `openstack`/`cinder`/`nova` run after sourcing
 * the kit's openrc files.
 *
 * Skips, saying why, only where keystone-up.sh cannot run (not root, no
 * Debian packages); a Keystone that comes up but misbehaves fails the suite.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CliError, parseProperties, parseTable, poll, PollAbort, CAIRN_JS, KEYSTONE_STATE, KIT, ROOT, SYS_PATH } from './cli';

/**
 * Runs keystone-up.sh (idempotent; ~10 s once installed); the reason it
 * cannot, or undefined. With `computeUrl` the catalog also gets a `compute`
 * entry (that URL verbatim: Nova's 2.1 endpoint has no project id); without
 * it the kit removes any.
 */
function keystoneUp(cairnUrl: string, computeUrl?: string): string | undefined {
  if (!fs.existsSync(path.join(KIT, 'keystone-up.sh'))) return `${KIT}/keystone-up.sh is missing`;
  if (process.getuid?.() !== 0) return 'keystone-up.sh must run as root (it installs packages and manages PostgreSQL)';
  const r = spawnSync(path.join(KIT, 'keystone-up.sh'), [], {
    env: {
      PATH: SYS_PATH,
      HOME: process.env.HOME ?? '/root',
      CAIRN_URL: cairnUrl,
      STATE_DIR: KEYSTONE_STATE,
      ...(computeUrl ? { CAIRN_COMPUTE_URL: computeUrl } : {}),
    },
    encoding: 'utf8',
    timeout: 900_000,
  });
  return r.status === 0
    ? undefined
    : `keystone-up.sh exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`;
}

/**
 * The catalog is one per Keystone: two runs of this suite on one machine (two
 * checkouts, or two people) would point it at each other's cairn. A lock
 * directory in the temp dir serialises them; a dead holder's lock is taken over.
 */
const LOCK = path.join(os.tmpdir(), 'cairn-keystone-compat.lock');
function acquireLock(timeoutMs = 900_000): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(path.join(LOCK, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      let alive = false;
      try {
        if (holder) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (!alive && holder) {
        fs.rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${LOCK} is held by pid ${holder}`, { cause: err });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}
const releaseLock = () => {
  try {
    if (fs.readFileSync(path.join(LOCK, 'pid'), 'utf8') === String(process.pid)) fs.rmSync(LOCK, { recursive: true, force: true });
  } catch {
    /* not ours */
  }
};

acquireLock();
process.once('exit', releaseLock);
/** Whether the kit's Keystone (its saved uwsgi pid) is running: one this suite starts, it also stops. */
function keystoneRunning(): boolean {
  try {
    process.kill(Number(fs.readFileSync(path.join(KEYSTONE_STATE, 'keystone', 'keystone.pid'), 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}
const startedHere = !keystoneRunning();
const unavailable = keystoneUp('http://127.0.0.1:8776');
if (unavailable) {
  console.warn(`SKIPPED test/compat/keystone.test.ts: no Keystone: ${unavailable}`);
  releaseLock();
}
const suite = unavailable ? describe.skip : describe;

/** Key=value lines of the kit's keystone.env (what cairn must be told). */
function kitSettings(): Record<string, string> {
  const text = fs.readFileSync(path.join(KEYSTONE_STATE, 'keystone.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `COMMAND ARGS…` after sourcing one of the kit's openrc files, in a clean environment; stdout, or a CliError. */
function as(user: 'demo' | 'alt-demo' | 'admin', cmd: string, ...args: string[]): Promise<string> {
  const rc = path.join(KEYSTONE_STATE, `${user}-openrc`);
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', '. "$0" && exec "$@"', rc, cmd, ...args],
      { env: { PATH: SYS_PATH, HOME: process.env.HOME ?? '/root' }, timeout: 60_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) reject(new CliError([cmd, ...args], (err as { code?: number }).code ?? null, stdout, stderr));
        else resolve(stdout);
      },
    );
  });
}

let child: ChildProcess | undefined;
let url = '';
let out = '';
let dataDir = '';

suite('openstack and cinder CLIs with Keystone password auth through the catalog', () => {
  let demoProject = '';
  let volumeId = '';

  beforeAll(async () => {
    if (!fs.existsSync(CAIRN_JS)) throw new Error('dist/ is missing: run `npm run build` before the compat tests');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ks-compat-'));
    const ks = kitSettings();
    child = spawn(process.execPath, [CAIRN_JS, 'all-in-one'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(port),
        CAIRN_DATA_DIR: dataDir,
        CAIRN_HOSTNAME: 'compat-ks',
        LOG_LEVEL: 'warn',
        AUTH_STRATEGY: 'keystone',
        ...ks,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (c: Buffer) => {
      out = (out + c.toString('utf8')).slice(-32_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await poll(
      'cairn to answer GET / with 300',
      async () => {
        if (child!.exitCode !== null) throw new PollAbort(`cairn exited\n${out}`);
        return (await fetch(`${url}/`)).status === 300;
      },
      { timeoutMs: 60_000 },
    );
    // Point the catalog's volumev3, block-storage and compute entries at this cairn.
    const repoint = keystoneUp(url, `${url}/v2.1`);
    if (repoint) throw new Error(`re-pointing the catalog failed: ${repoint}`);
    demoProject = (await as('demo', 'openstack', 'token', 'issue', '-f', 'value', '-c', 'project_id')).trim();
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        child!.once('exit', r);
        setTimeout(r, 10_000).unref();
      });
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    // Leave the catalog where the kit's default says cairn is, and no Keystone this suite started.
    keystoneUp('http://127.0.0.1:8776');
    if (startedHere)
      spawnSync(path.join(KIT, 'keystone-down.sh'), [], {
        env: { PATH: SYS_PATH, STATE_DIR: KEYSTONE_STATE },
        encoding: 'utf8',
        timeout: 60_000,
      });
    releaseLock();
  }, 120_000);

  const diag = (err: unknown) => {
    throw new Error(`${(err as Error).message}\n--- cairn ---\n${out}`);
  };

  it("without a token cairn answers keystonemiddleware's 401 naming the Keystone", async () => {
    const res = await fetch(`${url}/v3/${demoProject}/volumes`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Keystone uri="http://127.0.0.1:5000"');
  });

  it("openstack volume create / show / list as demo: the volume becomes available in demo's project", async () => {
    const created = JSON.parse(await as('demo', 'openstack', 'volume', 'create', '--size', '1', 'ks-compat', '-f', 'json').catch(diag));
    expect(created).toMatchObject({ name: 'ks-compat', size: 1, type: '__DEFAULT__' });
    volumeId = created.id;
    const shown = await poll('the volume to be available', async () => {
      const v = JSON.parse(await as('demo', 'openstack', 'volume', 'show', volumeId, '-f', 'json'));
      if (v.status === 'error') throw new PollAbort(`volume went to error\n${out}`);
      return v.status === 'available' && v;
    });
    expect(shown['os-vol-tenant-attr:tenant_id'] ?? demoProject).toBe(demoProject);
    const list = JSON.parse(await as('demo', 'openstack', 'volume', 'list', '-f', 'json'));
    expect(list.map((v: any) => [v.ID, v.Status])).toContainEqual([volumeId, 'available']);
  });

  it("alt_demo sees nothing of demo's: its list is empty, and show is a 404", async () => {
    expect(JSON.parse(await as('alt-demo', 'openstack', 'volume', 'list', '-f', 'json'))).toEqual([]);
    const err = await as('alt-demo', 'cinder', 'show', volumeId).then(
      () => undefined,
      (e) => e as CliError,
    );
    expect(err?.stderr).toMatch(/No volume with a name or ID of/);
  });

  it("cinder quota-usage and absolute-limits count demo's volume", async () => {
    const usage = Object.fromEntries(parseTable(await as('demo', 'cinder', 'quota-usage', demoProject)).map((r) => [r.Type, r]));
    expect(usage.volumes).toMatchObject({ In_use: '1', Limit: '10' });
    expect(usage.gigabytes).toMatchObject({ In_use: '1', Limit: '1000' });
    const limits = Object.fromEntries(parseTable(await as('demo', 'cinder', 'absolute-limits')).map((r) => [r.Name, r.Value]));
    expect(limits).toMatchObject({ maxTotalVolumes: '10', totalVolumesUsed: '1', totalGigabytesUsed: '1' });
  });

  it("an admin sets demo's quota (cinder quota-update); a create over it is refused with Cinder's message; quota-delete resets it", async () => {
    // A member may not.
    const denied = await as('demo', 'cinder', 'quota-update', '--volumes', '5', demoProject).then(
      () => undefined,
      (e) => e as CliError,
    );
    expect(denied?.stderr).toMatch(/Policy doesn't allow volume_extension:quotas:update to be performed. \(HTTP 403\)/);
    await as('admin', 'cinder', 'quota-update', '--volumes', '3', '--gigabytes', '5', demoProject);
    const q = parseProperties(await as('demo', 'cinder', 'quota-show', demoProject));
    expect(q).toMatchObject({ volumes: '3', gigabytes: '5' });
    const over = await as('demo', 'openstack', 'volume', 'create', '--size', '5', 'too-big').then(
      () => undefined,
      (e) => e as CliError,
    );
    expect(over?.stderr).toMatch(
      /VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\. Requested 5G, quota is 5G and 1G has been consumed\. \(HTTP 413\)/,
    );
    await as('admin', 'cinder', 'quota-delete', demoProject);
    expect(parseProperties(await as('demo', 'cinder', 'quota-show', demoProject))).toMatchObject({ volumes: '10', gigabytes: '1000' });
  });

  it("openstack quota set (admin) then quota show: the volume limits, and the compute ones through the catalog's compute entry", async () => {
    await as('admin', 'openstack', 'quota', 'set', '--volumes', '7', '--gigabytes', '70', demoProject).catch(diag);
    for (const who of ['admin', 'demo'] as const) {
      const q = JSON.parse(await as(who, 'openstack', 'quota', 'show', demoProject, '-f', 'json').catch(diag));
      // Volume limits from cinder's os-quota-sets, compute ones (Nova's defaults) from nova's, under OSC's names.
      expect({ who, q }).toMatchObject({
        who,
        q: {
          project: demoProject,
          project_name: 'demo',
          volumes: 7,
          gigabytes: 70,
          snapshots: 10,
          instances: 10,
          cores: 20,
          ram: 51200,
          properties: 128,
          'key-pairs': 100,
        },
      });
    }
    // Without a project: the caller's own.
    expect(JSON.parse(await as('demo', 'openstack', 'quota', 'show', '-f', 'json'))).toMatchObject({
      project: demoProject,
      volumes: 7,
      gigabytes: 70,
      instances: 10,
    });
    // A member may set neither service's quota; an admin sets the compute one through nova's os-quota-sets.
    const denied = await as('demo', 'openstack', 'quota', 'set', '--instances', '3', demoProject).then(
      () => undefined,
      (e) => e as CliError,
    );
    expect(denied?.stderr).toMatch(/Policy doesn't allow os_compute_api:os-quota-sets:update to be performed\. \(HTTP 403\)/);
    await as('admin', 'openstack', 'quota', 'set', '--instances', '3', '--cores', '6', demoProject).catch(diag);
    expect(JSON.parse(await as('demo', 'openstack', 'quota', 'show', '-f', 'json'))).toMatchObject({ instances: 3, cores: 6, volumes: 7 });
  });

  it("openstack limits show --absolute as demo: compute and volume limits, usage consistent with demo's one volume", async () => {
    const rows: Array<{ Name: string; Value: number }> = JSON.parse(
      await as('demo', 'openstack', 'limits', 'show', '--absolute', '-f', 'json').catch(diag),
    );
    const limits = Object.fromEntries(rows.map((r) => [r.Name, r.Value]));
    expect(limits).toMatchObject({
      // Nova's GET /limits (OSC asks at 2.1: maxImageMeta and maxPersonality are still there).
      maxTotalInstances: 3,
      maxTotalCores: 6,
      maxTotalRAMSize: 51200,
      maxServerMeta: 128,
      maxImageMeta: 128,
      maxPersonality: 5,
      totalInstancesUsed: 0,
      totalCoresUsed: 0,
      totalRAMUsed: 0,
      // Cinder's GET /v3/{project}/limits: the limits set above, and the volume made in the first test.
      maxTotalVolumes: 7,
      maxTotalVolumeGigabytes: 70,
      maxTotalSnapshots: 10,
      totalVolumesUsed: 1,
      totalGigabytesUsed: 1,
      totalSnapshotsUsed: 0,
    });
    // alt_demo's figures are its own.
    const alt = Object.fromEntries(
      JSON.parse(await as('alt-demo', 'openstack', 'limits', 'show', '--absolute', '-f', 'json')).map(
        (r: { Name: string; Value: number }) => [r.Name, r.Value],
      ),
    );
    expect(alt).toMatchObject({ maxTotalInstances: 10, maxTotalVolumes: 10, totalVolumesUsed: 0 });
    // Back to the defaults, both services.
    await as('admin', 'nova', 'quota-delete', '--tenant', demoProject).catch(diag);
    await as('admin', 'cinder', 'quota-delete', demoProject).catch(diag);
    expect(JSON.parse(await as('demo', 'openstack', 'quota', 'show', '-f', 'json'))).toMatchObject({
      instances: 10,
      cores: 20,
      volumes: 10,
      gigabytes: 1000,
    });
  });

  it('openstack volume delete removes it', async () => {
    await as('demo', 'openstack', 'volume', 'delete', volumeId);
    await poll('the volume to be gone', async () => {
      const list = JSON.parse(await as('demo', 'openstack', 'volume', 'list', '-f', 'json'));
      return !list.some((v: any) => v.ID === volumeId);
    });
  });
});
