import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DriverError } from '../../src/domain/errors';
import { ExtStorageDriver } from '../../src/workers/drivers/extstorage';
import { cloneSnapshot } from '../../src/workers/drivers/extstorageEnv';
import { copyOver } from '../../src/workers/drivers/fileCopy';
import { EXAMPLES, documentedVariables, holds, readCalls, writePattern, type RecordedCall } from '../helpers/extstorage';

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
        location: `recorder/cairn-vol-${ID}`,
        devicePath: `/dev/recorder/cairn-vol-${ID}`,
        driverVolumeType: 'local',
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
    expect(calls.map((c) => c.action)).toEqual([
      'verify',
      'create',
      'attach',
      'setinfo',
      'open',
      'grow',
      'snapshot',
      'close',
      'detach',
      'attach',
      'detach',
      'remove',
    ]);
    for (const c of calls) {
      expect([c.action, Object.keys(c.env).sort()]).toEqual([c.action, documentedVariables(c.action, ['log'], true)]);
      expect(c.cwd).toBe(path.join(EXAMPLES, 'recorder'));
      expect(c.args).toEqual(c.action === 'verify' ? ['parameters'] : []);
    }
    const env = (a: string) => calls.find((c) => c.action === a)!.env;
    expect(env('create')).toMatchObject({
      VOL_NAME: `cairn-vol-${ID}`,
      VOL_UUID: ID,
      VOL_CNAME: 'web-data',
      VOL_SIZE: '1024',
      EXTP_LOG: log,
    });
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
    const err = (await d.create({ id: ID, params: { provider: 'noisy' } }, 1).catch((e: unknown) => e as DriverError)) as DriverError;
    expect(err.detail.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
  });

  it('kills a hung script and everything it started at the timeout: a final error (a hung script is not retried)', async () => {
    const pids = path.join(tmp, 'pids');
    const d = provider('hung', { create: `/bin/sleep 60 & echo $! > ${pids}; echo $$ >> ${pids}; echo stuck >&2; wait` });
    const started = Date.now();
    const err = (await d.create({ id: ID, params: { provider: 'hung' } }, 1).catch((e: unknown) => e as DriverError)) as DriverError;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ transient: false, message: expect.stringContaining('timed out after 0.3 s'), detail: 'stuck' });
    const [sleeper, script] = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    const deadline = Date.now() + 3000;
    while ((alive(sleeper!) || alive(script!)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([alive(sleeper!), alive(script!)]).toEqual([false, false]);
  });

  it('a provider invalid on this worker fails as transient, so another worker may take the task', async () => {
    const d = provider('broken', {});
    fs.rmSync(path.join(tmp, 'providers', 'broken', 'grow'));
    await expect(d.create({ id: ID, params: { provider: 'broken' } }, 1)).rejects.toMatchObject({
      transient: true,
      message: expect.stringContaining('ExtStorage provider broken is not valid on this worker: grow is missing'),
    });
    await expect(driver.create({ id: ID, params: { provider: 'nosuch' } }, 1)).rejects.toMatchObject({ transient: true });
    await expect(driver.create({ id: ID }, 1)).rejects.toMatchObject({
      transient: false,
      message: expect.stringContaining('names no ExtStorage provider'),
    });
  });

  it('an attach that prints nothing is an error; a detach while other servers use the volume runs no script', async () => {
    const d = provider('quiet', { attach: 'exit 0' });
    const vol = { id: ID, params: { provider: 'quiet', log } };
    await expect(d.attach(vol, { serverId: 's', mode: 'rw' })).rejects.toMatchObject({ transient: false });
    await d.detach(vol, { serverId: 's', mode: 'rw', otherServers: ['t'] });
    expect(readCalls(log)).toEqual([]);
  });

  it("attach checks the device path it printed (Ganeti's Attach): missing, relative or a folder fails finally and is detached; a URI line spares the check", async () => {
    const vol = { id: ID, params: { provider: 'liar', log } };
    const target = { serverId: 's', mode: 'rw' as const };
    const liar = (printed: string) => provider('liar', { attach: `(. ./record.sh) >/dev/null\nprintf '%s\\n' '${printed}'` });
    for (const [printed, why] of [
      [path.join(tmp, 'nothing-here'), 'does not exist'],
      ['dev/x', 'is not an absolute path'],
      [tmp, 'is neither a block device nor a regular file'],
    ]) {
      fs.rmSync(log, { force: true });
      await expect(liar(printed!).attach(vol, target)).rejects.toMatchObject({
        transient: false,
        message: `ExtStorage provider liar: attach of volume ${ID} printed the device path '${printed}', which ${why}`,
      });
      // Undone at once, and no setinfo/open for an attach that did not happen.
      expect(readCalls(log).map((c) => c.action)).toEqual(['attach', 'detach']);
    }
    // A regular file (what file-backed providers print) is a device path.
    const file = path.join(tmp, 'disk.img');
    fs.writeFileSync(file, '');
    expect((await liar(file).attach(vol, target)).devicePath).toBe(file);
    // A block device too.
    if (fs.existsSync('/dev/loop0') && fs.statSync('/dev/loop0').isBlockDevice()) {
      expect((await liar('/dev/loop0').attach(vol, target)).devicePath).toBe('/dev/loop0');
    }
    // The recorder prints a path that is not there, then a userspace URI: the hypervisor opens the URI.
    const att = await driver.attach({ id: ID, params: { provider: 'recorder', log } }, target);
    expect(att.uris).toEqual([`kvm:recorder:cairn-vol-${ID}`]);
  });

  it('diagnose reports every provider of the search path', async () => {
    expect((await driver.diagnose()).map((d) => d.name)).toEqual(['filevol', 'recorder']);
  });
});

describe('ExtStorage snapshots and copies', () => {
  const NEW = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
  const SNAP = 'c0ffee00-1111-4222-8333-944455556666';
  let tmp: string;
  let log: string;
  let driver: ExtStorageDriver;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-esc-'));
    log = path.join(tmp, 'calls.log');
    driver = new ExtStorageDriver({ searchPath: [EXAMPLES], timeoutMs: 10_000 });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** `[action, VOL_NAME, VOL_OPEN_EXCLUSIVE?]` of each call: the order and the subject of every script. */
  const steps = (calls: RecordedCall[]) =>
    calls.map((c) => [c.action, c.env.VOL_NAME, ...(c.action === 'open' ? [c.env.VOL_OPEN_EXCLUSIVE] : [])]);
  const allocated = (file: string) => fs.statSync(file).blocks * 512;

  it("removes a snapshot as Ganeti does: attach, detach, remove of the volume cairn-snap-<id>, with its volume's parameters", async () => {
    await driver.removeSnapshot({ id: SNAP, location: `recorder/cairn-snap-${SNAP}`, params: { provider: 'recorder', log } });
    const calls = readCalls(log);
    expect(steps(calls)).toEqual([
      ['attach', `cairn-snap-${SNAP}`],
      ['detach', `cairn-snap-${SNAP}`],
      ['remove', `cairn-snap-${SNAP}`],
    ]);
    for (const c of calls) {
      expect([c.action, Object.keys(c.env).sort()]).toEqual([c.action, documentedVariables(c.action, ['log'], false)]);
      expect(c.env).toMatchObject({ VOL_UUID: SNAP, EXTP_LOG: log });
    }
  });

  it('removing a snapshot that is not there succeeds (its attach fails); the provider can come from the location', async () => {
    const dir = path.join(tmp, 'vols');
    const vol = { id: ID, sizeGib: 1, params: { provider: 'filevol', dir } };
    await driver.create(vol, 1);
    await driver.snapshot(vol, { id: SNAP });
    const snapFile = path.join(dir, `cairn-snap-${SNAP}`);
    expect(fs.existsSync(snapFile)).toBe(true);
    await driver.removeSnapshot({ id: SNAP, location: `filevol/cairn-snap-${SNAP}`, params: { provider: 'filevol', dir } });
    expect(fs.existsSync(snapFile)).toBe(false);
    expect(fs.existsSync(path.join(dir, `cairn-vol-${ID}`))).toBe(true);
    await driver.removeSnapshot({ id: SNAP, params: { provider: 'filevol', dir } }); // again: nothing there
    await expect(driver.removeSnapshot({ id: SNAP })).rejects.toMatchObject({
      transient: false,
      message: expect.stringContaining('names no ExtStorage provider'),
    });
    // No params: the provider from the location, its scripts with no EXTP_* (the recorder then logs in its own folder).
    const d = new ExtStorageDriver({ searchPath: [path.join(tmp, 'providers')], timeoutMs: 10_000 });
    fs.cpSync(path.join(EXAMPLES, 'recorder'), path.join(tmp, 'providers', 'rec2'), { recursive: true });
    await d.removeSnapshot({ id: SNAP, location: `rec2/cairn-snap-${SNAP}` });
    expect(steps(readCalls(path.join(tmp, 'providers', 'rec2', 'state', 'calls.log'))).map(([a]) => a)).toEqual([
      'attach',
      'detach',
      'remove',
    ]);
  });

  it('a volume from a snapshot: create, then the snapshot attached and opened shared, the volume exclusive, copied, both closed and detached', async () => {
    const dev = path.join(tmp, 'dev');
    fs.mkdirSync(dev);
    writePattern(path.join(dev, `cairn-snap-${SNAP}`), 8 * MiB, 'snap');
    const vol = { id: NEW, name: 'restored', params: { provider: 'recorder', log, dev } };
    expect(await driver.copyFrom(vol, 1, { kind: 'snapshot', snapshot: { id: SNAP, params: { provider: 'recorder', log, dev } } })).toBe(
      `recorder/cairn-vol-${NEW}`,
    );
    const calls = readCalls(log);
    const [s, v] = [`cairn-snap-${SNAP}`, `cairn-vol-${NEW}`];
    expect(steps(calls)).toEqual([
      ['verify', v],
      ['create', v],
      ['attach', s],
      ['open', s, 'False'],
      ['attach', v],
      ['open', v, 'True'],
      ['close', v],
      ['detach', v],
      ['close', s],
      ['detach', s],
    ]);
    for (const c of calls) {
      const isSnap = c.env.VOL_NAME === s;
      expect([c.action, Object.keys(c.env).sort()]).toEqual([c.action, documentedVariables(c.action, ['log', 'dev'], !isSnap)]);
      expect(c.env.VOL_UUID).toBe(isSnap ? SNAP : NEW);
    }
    expect(calls[1]!.env).toMatchObject({ VOL_SIZE: '1024', VOL_CNAME: 'restored' });
    expect(fs.readFileSync(path.join(dev, v)).equals(fs.readFileSync(path.join(dev, s)))).toBe(true);
  });

  it("a clone goes through a temporary snapshot of the source, with the source's parameters, removed afterwards", async () => {
    const srcLog = path.join(tmp, 'source.log');
    const SRC = '11111111-2222-4333-8444-555555555555';
    const temp = cloneSnapshot(NEW);
    const dev = path.join(tmp, 'dev');
    await driver.copyFrom({ id: NEW, params: { provider: 'recorder', log, dev } }, 2, {
      kind: 'volume',
      volume: { id: SRC, sizeGib: 1, params: { provider: 'recorder', log: srcLog, dev } },
    });
    expect(temp.volName).toBe(`cairn-snap-clone-${NEW}`);
    expect(temp.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(cloneSnapshot(NEW)).toEqual(temp); // stable across retries
    const v = `cairn-vol-${NEW}`;
    expect(steps(readCalls(log))).toEqual([
      ['verify', v],
      ['create', v],
      ['attach', v],
      ['open', v, 'True'],
      ['close', v],
      ['detach', v],
    ]);
    const srcCalls = readCalls(srcLog);
    expect(steps(srcCalls)).toEqual([
      // What an earlier attempt may have left goes first (Ganeti's Remove).
      ['attach', temp.volName],
      ['detach', temp.volName],
      ['remove', temp.volName],
      ['snapshot', `cairn-vol-${SRC}`],
      ['attach', temp.volName],
      ['open', temp.volName, 'False'],
      ['close', temp.volName],
      ['detach', temp.volName],
      ['attach', temp.volName],
      ['detach', temp.volName],
      ['remove', temp.volName],
    ]);
    expect(srcCalls[3]!.env).toMatchObject({ VOL_UUID: SRC, VOL_SNAPSHOT_NAME: temp.volName, VOL_SNAPSHOT_SIZE: '1024' });
    for (const c of srcCalls.filter((x) => x.action !== 'snapshot')) expect(c.env.VOL_UUID).toBe(temp.id);
  });

  it('filevol: snapshot, volume from it, clone and revert keep the bytes, and holes stay holes', async () => {
    const dir = path.join(tmp, 'vols');
    const params = { provider: 'filevol', dir };
    const file = (name: string) => path.join(dir, name);
    const vol = { id: ID, sizeGib: 1, params };
    await driver.create(vol, 1);
    writePattern(file(`cairn-vol-${ID}`), 1024 * MiB, 'v1');
    await driver.snapshot(vol, { id: SNAP });
    // The snapshot file (filevol's sparse cp) holds the volume's bytes as they were: the reference from here on.
    const original = file(`cairn-snap-${SNAP}`);

    await driver.copyFrom({ id: NEW, params }, 2, { kind: 'snapshot', snapshot: { id: SNAP, params } });
    expect(fs.statSync(file(`cairn-vol-${NEW}`)).size).toBe(2048 * MiB);
    expect(holds(file(`cairn-vol-${NEW}`), original)).toBe(true);
    expect(allocated(file(`cairn-vol-${NEW}`))).toBeLessThan(4 * MiB);

    const CLONE = '22222222-3333-4444-8555-666666666666';
    await driver.copyFrom({ id: CLONE, params }, 1, { kind: 'volume', volume: { id: ID, sizeGib: 1, params } });
    expect(fs.statSync(file(`cairn-vol-${CLONE}`)).size).toBe(1024 * MiB);
    expect(holds(file(`cairn-vol-${CLONE}`), original)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('clone'))).toEqual([]); // the temporary snapshot is gone

    // Revert: data written after the snapshot, zeros where the snapshot has zeros.
    const fd = fs.openSync(file(`cairn-vol-${ID}`), 'r+');
    fs.writeSync(fd, Buffer.alloc(5 * MiB, 0xab), 0, 5 * MiB, 100 * MiB);
    fs.writeSync(fd, 'changed', 0);
    fs.closeSync(fd);
    await driver.revertToSnapshot(vol, { id: SNAP, location: `filevol/cairn-snap-${SNAP}` });
    expect(fs.statSync(file(`cairn-vol-${ID}`)).size).toBe(1024 * MiB);
    expect(holds(file(`cairn-vol-${ID}`), original)).toBe(true);
  });

  it('a volume from an image file; a retry after a crash copies again and ends the same; a file too big is refused', async () => {
    const dir = path.join(tmp, 'vols');
    const params = { provider: 'filevol', dir };
    const image = path.join(tmp, 'image.raw');
    writePattern(image, 20 * MiB + 5, 'img');
    await driver.copyFrom({ id: NEW, params }, 1, { kind: 'file', path: image });
    const target = path.join(dir, `cairn-vol-${NEW}`);
    expect(fs.statSync(target).size).toBe(1024 * MiB);
    expect(holds(target, image)).toBe(true);
    // A crashed attempt left something else there: the retry's create is a no-op and the copy overwrites it.
    const fd = fs.openSync(target, 'r+');
    fs.writeSync(fd, Buffer.alloc(MiB, 0x5a), 0, MiB, 2 * MiB);
    fs.closeSync(fd);
    expect(holds(target, image)).toBe(false);
    await driver.copyFrom({ id: NEW, params }, 1, { kind: 'file', path: image });
    expect(holds(target, image)).toBe(true);

    const big = path.join(tmp, 'big.raw');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 1024 * MiB + 1);
    await expect(driver.copyFrom({ id: ID, params }, 1, { kind: 'file', path: big })).rejects.toMatchObject({
      transient: false,
      message: expect.stringContaining('does not fit'),
    });
    await expect(driver.copyFrom({ id: ID, params }, 1, { kind: 'file', path: path.join(tmp, 'nope') })).rejects.toMatchObject({
      transient: false,
      message: expect.stringContaining('is missing'),
    });
  });

  it('revert with the recorder: the snapshot shared, the volume exclusive, no create', async () => {
    const dev = path.join(tmp, 'dev');
    await driver.revertToSnapshot({ id: ID, name: 'db', sizeGib: 1, params: { provider: 'recorder', log, dev } }, { id: SNAP });
    const [s, v] = [`cairn-snap-${SNAP}`, `cairn-vol-${ID}`];
    expect(steps(readCalls(log))).toEqual([
      ['attach', s],
      ['open', s, 'False'],
      ['attach', v],
      ['open', v, 'True'],
      ['close', v],
      ['detach', v],
      ['close', s],
      ['detach', s],
    ]);
  });

  it('a copy needs a device path: attach printing none fails finally, and what was mapped is detached', async () => {
    const dir = path.join(tmp, 'providers', 'userspace');
    fs.cpSync(path.join(EXAMPLES, 'recorder'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'attach'), '#!/bin/sh\n. ./record.sh >/dev/null\necho\necho "kvm:rbd:pool/$VOL_NAME"\n', {
      mode: 0o755,
    });
    const d = new ExtStorageDriver({ searchPath: [path.join(tmp, 'providers')], timeoutMs: 10_000 });
    const err = await d
      .copyFrom({ id: NEW, params: { provider: 'userspace', log } }, 1, {
        kind: 'snapshot',
        snapshot: { id: SNAP, params: { provider: 'userspace', log } },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ transient: false, message: expect.stringContaining('printed no device path (userspace access only)') });
    expect(steps(readCalls(log)).map(([a, n]) => `${a} ${n}`)).toEqual([
      `verify cairn-vol-${NEW}`,
      `create cairn-vol-${NEW}`,
      `attach cairn-snap-${SNAP}`,
      `detach cairn-snap-${SNAP}`,
    ]);
  });
});

describe('copyOver', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-cov-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes only chunks that differ: a fresh sparse target stays sparse, a dirty one gets the zeros too', async () => {
    const src = path.join(tmp, 'src');
    const dest = path.join(tmp, 'dest');
    fs.writeFileSync(src, '');
    fs.truncateSync(src, 64 * MiB);
    const fd = fs.openSync(src, 'r+');
    fs.writeSync(fd, 'head', 0);
    fs.writeSync(fd, 'tail', 64 * MiB - 4);
    fs.closeSync(fd);
    fs.writeFileSync(dest, '');
    fs.truncateSync(dest, 64 * MiB);
    const fresh = await copyOver(src, dest);
    expect(fresh).toEqual({ bytes: 64 * MiB, writtenBytes: 2 * 64 * 1024 });
    expect(fs.statSync(dest).blocks * 512).toBeLessThan(MiB);
    expect(fs.readFileSync(dest).equals(fs.readFileSync(src))).toBe(true);
    expect(await copyOver(src, dest)).toEqual({ bytes: 64 * MiB, writtenBytes: 0 }); // a retry: nothing left to write

    fs.writeFileSync(dest, Buffer.alloc(64 * MiB, 1)); // all data, where the source has holes
    await copyOver(src, dest);
    expect(fs.readFileSync(dest).equals(fs.readFileSync(src))).toBe(true);
    await expect(copyOver(src, dest, { maxBytes: 64 * MiB - 1 })).rejects.toBeInstanceOf(RangeError);
  });
});
