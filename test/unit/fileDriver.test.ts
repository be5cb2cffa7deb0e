import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileDriver } from '../../src/workers/drivers/file';

describe('file driver', () => {
  let dir: string;
  let driver: FileDriver;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fd-'));
    driver = new FileDriver(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a sparse file of the size at the Ganeti top-level path', async () => {
    const loc = await driver.create({ id: 'abc' }, 3);
    expect(loc).toBe(path.join(dir, 'volume-abc'));
    const st = fs.statSync(loc);
    expect(st.size).toBe(3 * 1024 ** 3);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);
  });

  it('create makes a storage directory or server folder that does not exist yet', async () => {
    const fresh = new FileDriver(path.join(dir, 'not', 'yet'));
    expect(fs.statSync(await fresh.create({ id: 'top' }, 1)).size).toBe(1024 ** 3);
    const inServer = path.join(dir, 'not', 'yet', 'server-1', 'volume-inside');
    expect(await fresh.create({ id: 'inside', location: inServer }, 2)).toBe(inServer);
    expect(fs.statSync(inServer).size).toBe(2 * 1024 ** 3);
  });

  it('create is idempotent and never truncates data already written', async () => {
    const loc = await driver.create({ id: 'abc' }, 1);
    const fd = fs.openSync(loc, 'r+');
    fs.writeSync(fd, Buffer.from('hello'), 0, 5, 0);
    fs.closeSync(fd);
    expect(await driver.create({ id: 'abc' }, 1)).toBe(loc);
    const buf = Buffer.alloc(5);
    const rfd = fs.openSync(loc, 'r');
    fs.readSync(rfd, buf, 0, 5, 0);
    fs.closeSync(rfd);
    expect(buf.toString()).toBe('hello');
  });

  it('finishes a create that crashed after the file was made but before it was sized', async () => {
    fs.writeFileSync(path.join(dir, 'volume-abc'), '');
    const loc = await driver.create({ id: 'abc' }, 1);
    expect(fs.statSync(loc).size).toBe(1024 ** 3);
  });

  it('refuses a volume larger than the filesystem, as a final error', async () => {
    await expect(driver.create({ id: 'huge' }, 1024 ** 3)).rejects.toMatchObject({ transient: false });
    expect(fs.existsSync(path.join(dir, 'volume-huge'))).toBe(false);
  });

  it('attach moves under the server, detach back; a multi-attach volume stays at the top', async () => {
    const top = await driver.create({ id: 'v1' }, 1);
    const a = await driver.attach({ id: 'v1', location: top }, { serverId: 'srvA', mode: 'rw' });
    expect(a.location).toBe(path.join(dir, 'srvA', 'volume-v1'));
    expect(fs.existsSync(top)).toBe(false);
    // Idempotent: a re-run after the move finds the file already there.
    expect((await driver.attach({ id: 'v1', location: top }, { serverId: 'srvA', mode: 'rw' })).location).toBe(a.location);
    expect(await driver.detach({ id: 'v1', location: a.location })).toBe(top);
    fs.rmdirSync(path.join(dir, 'srvA'));
    const shared = await driver.create({ id: 'v2' }, 1);
    expect((await driver.attach({ id: 'v2', location: shared, multiattach: true }, { serverId: 'srvB', mode: 'ro' })).location).toBe(
      shared,
    );
  });

  it('finds a volume whose recorded location is stale (a move that was never recorded)', async () => {
    const top = await driver.create({ id: 'v3' }, 1);
    fs.mkdirSync(path.join(dir, 'srvC'));
    fs.renameSync(top, path.join(dir, 'srvC', 'volume-v3'));
    expect((await driver.attach({ id: 'v3', location: top }, { serverId: 'srvD', mode: 'rw' })).location).toBe(
      path.join(dir, 'srvD', 'volume-v3'),
    );
    await driver.remove({ id: 'v3', location: top });
    expect(fs.existsSync(path.join(dir, 'srvD', 'volume-v3'))).toBe(false);
  });

  it('remove of a missing volume succeeds', async () => {
    await expect(driver.remove({ id: 'nope' })).resolves.toBeUndefined();
  });

  it('refuses a location outside the storage directory', async () => {
    await expect(driver.remove({ id: 'x', location: '/etc/passwd' })).rejects.toThrow(/outside the storage directory/);
  });
});
