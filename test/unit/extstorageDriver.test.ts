import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DriverError } from '../../src/domain/errors';
import { ExtStorageDriver } from '../../src/workers/drivers/extstorage';
import { EXAMPLES, documentedVariables, readCalls } from '../helpers/extstorage';

const MiB = 1024 ** 2;
const ID = '9e8d7c6b-5a49-4837-a261-5f4e3d2c1b0a';

/** Is `pid` running? A zombie (reaped by nobody in a container) counts as dead. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('ExtStorage driver', () => {
  let tmp: string;
  let log: string;
  let driver: ExtStorageDriver;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-esd-'));
    log = path.join(tmp, 'calls.log');
    driver = new ExtStorageDriver({ searchPath: [EXAMPLES], timeoutMs: 10_000 });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A provider of our own in `tmp`: the recorder with some scripts replaced. */
  const provider = (name: string, scripts: Record<string, string>): ExtStorageDriver => {
    const dir = path.join(tmp, 'providers', name);
    fs.cpSync(path.join(EXAMPLES, 'recorder'), dir, { recursive: true });
    for (const [s, body] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, s), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return new ExtStorageDriver({ searchPath: [path.join(tmp, 'providers')], timeoutMs: 300, killGraceMs: 300 });
  };

  it('runs each script in the provider folder with exactly the documented variables', async () => {
    process.env.CAIRN_CANARY = 'leak';
    try {
      const vol = { id: ID, name: 'web-data', sizeGib: 1, params: { provider: 'recorder', log } };
      expect(await driver.create(vol, 1)).toBe(`recorder/cairn-vol-${ID}`);
      const att = await driver.attach(vol, { serverId: 'srv-1', mode: 'rw' });
      expect(att).toEqual({
        location: `recorder/cairn-vol-${ID}`, devicePath: `/dev/recorder/cairn-vol-${ID}`, driverVolumeType: 'local',
        uris: [`kvm:recorder:cairn-vol-${ID}`],
      });
      await driver.grow(vol, 2);
      await driver.snapshot(vol, { id: 's1' });
      await driver.detach(vol, { serverId: 'srv-1', mode: 'rw' });
      await driver.remove(vol);
    } finally {
      delete process.env.CAIRN_CANARY;
    }
    const calls = readCalls(log);
    expect(calls.map((c) => c.action)).toEqual(
      ['verify', 'create', 'attach', 'setinfo', 'open', 'grow', 'snapshot', 'close', 'detach', 'attach', 'detach', 'remove']);
    for (const c of calls) {
      expect([c.action, Object.keys(c.env).sort()]).toEqual([c.action, documentedVariables(c.action, ['log'], true)]);
      expect(c.cwd).toBe(path.join(EXAMPLES, 'recorder'));
      expect(c.args).toEqual(c.action === 'verify' ? ['parameters'] : []);
    }
    const env = (a: string) => calls.find((c) => c.action === a)!.env;
    expect(env('create')).toMatchObject({ VOL_NAME: `cairn-vol-${ID}`, VOL_UUID: ID, VOL_CNAME: 'web-data', VOL_SIZE: '1024', EXTP_LOG: log });
    expect(env('grow')).toMatchObject({ VOL_SIZE: '1024', VOL_NEW_SIZE: '2048' });
    expect(env('setinfo').VOL_METADATA).toBe('originstname+srv-1');
    expect(env('open').VOL_OPEN_EXCLUSIVE).toBe('True');
    expect(env('snapshot')).toMatchObject({ VOL_SNAPSHOT_NAME: 'cairn-snap-s1', VOL_SNAPSHOT_SIZE: '1024' });
  });

  it('keeps volumes as files with filevol: create, attach, grow, snapshot, detach, remove', async () => {
    const dir = path.join(tmp, 'vols');
    const vol = { id: ID, sizeGib: 1, params: { provider: 'filevol', dir } };
    const file = path.join(dir, `cairn-vol-${ID}`);
    await driver.create(vol, 1);
    expect(fs.statSync(file).size).toBe(1024 * MiB);
    await driver.create(vol, 1); // a re-run after a crash
    const att = await driver.attach(vol, { serverId: 'srv-1', mode: 'rw' });
    expect(att.devicePath).toBe(file);
    expect(fs.readFileSync(`${file}.info`, 'utf8')).toBe('originstname+srv-1\n');
    await driver.grow(vol, 3);
    expect(fs.statSync(file).size).toBe(3 * 1024 * MiB);
    await driver.snapshot({ ...vol, sizeGib: 3 }, { id: 's1' });
    expect(fs.statSync(path.join(dir, 'cairn-snap-s1')).size).toBe(3 * 1024 * MiB);
    expect(await driver.detach(vol, { serverId: 'srv-1', mode: 'rw' })).toBe(`filevol/cairn-vol-${ID}`);
    await driver.remove(vol);
    expect(fs.existsSync(file)).toBe(false);
    await driver.remove(vol); // removing a missing volume succeeds (its attach fails, as in Ganeti's Remove)
  });

  it('a failing script is a final error carrying the last lines of its stderr', async () => {
    const vol = { id: ID, params: { provider: 'recorder', log, fail: 'create' } };
    const err = await driver.create(vol, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ transient: false, message: 'ExtStorage provider recorder: create script failed (exit code 1)' });
    expect((err as DriverError).detail).toBe(`recorder: create of cairn-vol-${ID} failed as asked (fail=create)`);
  });

  it('exit code 75 asks for a retry: a transient error', async () => {
    const vol = { id: ID, params: { provider: 'recorder', log, fail: 'create', fail_code: '75' } };
    await expect(driver.create(vol, 1)).rejects.toMatchObject({ transient: true, message: expect.stringContaining('exit code 75') });
  });

  it('keeps only the last 20 lines of stderr', async () => {
    const d = provider('noisy', { create: 'i=1; while [ $i -le 30 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 3' });
    const err = await d.create({ id: ID, params: { provider: 'noisy' } }, 1).catch((e: unknown) => e as DriverError) as DriverError;
    expect(err.detail.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
  });

  it('kills a hung script and everything it started at the timeout: a transient error', async () => {
    const pids = path.join(tmp, 'pids');
    const d = provider('hung', { create: `/bin/sleep 60 & echo $! > ${pids}; echo $$ >> ${pids}; echo stuck >&2; wait` });
    const started = Date.now();
    const err = await d.create({ id: ID, params: { provider: 'hung' } }, 1).catch((e: unknown) => e as DriverError) as DriverError;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ transient: true, message: expect.stringContaining('timed out after 0.3 s'), detail: 'stuck' });
    const [sleeper, script] = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    const deadline = Date.now() + 3000;
    while ((alive(sleeper!) || alive(script!)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([alive(sleeper!), alive(script!)]).toEqual([false, false]);
  });

  it('a provider invalid on this worker fails as transient, so another worker may take the task', async () => {
    const d = provider('broken', {});
    fs.rmSync(path.join(tmp, 'providers', 'broken', 'grow'));
    await expect(d.create({ id: ID, params: { provider: 'broken' } }, 1)).rejects.toMatchObject({
      transient: true, message: expect.stringContaining('ExtStorage provider broken is not valid on this worker: grow is missing'),
    });
    await expect(driver.create({ id: ID, params: { provider: 'nosuch' } }, 1)).rejects.toMatchObject({ transient: true });
    await expect(driver.create({ id: ID }, 1)).rejects.toMatchObject({ transient: false, message: expect.stringContaining('names no ExtStorage provider') });
  });

  it('an attach that prints nothing is an error; a detach while other servers use the volume runs no script', async () => {
    const d = provider('quiet', { attach: 'exit 0' });
    const vol = { id: ID, params: { provider: 'quiet', log } };
    await expect(d.attach(vol, { serverId: 's', mode: 'rw' })).rejects.toMatchObject({ transient: false });
    await d.detach(vol, { serverId: 's', mode: 'rw', otherServers: ['t'] });
    expect(readCalls(log)).toEqual([]);
  });

  it('diagnose reports every provider of the search path', async () => {
    expect((await driver.diagnose()).map((d) => d.name)).toEqual(['filevol', 'recorder']);
  });
});
