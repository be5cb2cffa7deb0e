import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileDriver } from '../../src/workers/drivers/file';
import { copyData, extentCopy, partName, sparseCopy } from '../../src/workers/drivers/fileCopy';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Writes `text` at each offset of a file. */
function writeAt(file: string, parts: Array<[number, string]>): void {
  const fd = fs.openSync(file, 'r+');
  for (const [pos, text] of parts) fs.writeSync(fd, Buffer.from(text), 0, text.length, pos);
  fs.closeSync(fd);
}

function readAt(file: string, pos: number, n: number): string {
  const buf = Buffer.alloc(n);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, buf, 0, n, pos);
  fs.closeSync(fd);
  return buf.toString();
}

const allocated = (file: string) => fs.statSync(file).blocks * 512;

describe('file driver copies (snapshots, clones, reverts)', () => {
  let dir: string;
  let driver: FileDriver;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fs-')); driver = new FileDriver(dir); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the chunked copy keeps every byte and leaves holes as holes', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, '');
    fs.truncateSync(src, 64 * MiB);
    writeAt(src, [[0, 'head'], [10 * MiB + 3, 'middle'], [64 * MiB - 4, 'tail']]);
    const dest = path.join(dir, 'dest');
    await sparseCopy(src, dest);
    expect(fs.statSync(dest).size).toBe(64 * MiB);
    expect([readAt(dest, 0, 4), readAt(dest, 10 * MiB + 3, 6), readAt(dest, 64 * MiB - 4, 4)]).toEqual(['head', 'middle', 'tail']);
    // Three chunks hold data; the other 61 MiB stay unallocated.
    expect(allocated(dest)).toBeLessThanOrEqual(4 * MiB);
  });

  it('the chunked copy writes a source whose size is no multiple of the chunk, to its last byte', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, Buffer.concat([Buffer.alloc(130), Buffer.from('end')]));
    const dest = path.join(dir, 'dest');
    await sparseCopy(src, dest, 64);
    expect(fs.readFileSync(dest)).toEqual(fs.readFileSync(src));
  });

  it('the extent copy (GNU cp) keeps every byte, leaves holes and zero runs as holes, and fails on a missing source', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, '');
    fs.truncateSync(src, 256 * MiB);
    writeAt(src, [[0, 'head'], [100 * MiB + 3, 'middle'], [256 * MiB - 4, 'tail']]);
    fs.writeFileSync(path.join(dir, 'zeros'), Buffer.alloc(8 * MiB));
    const dest = path.join(dir, 'dest');
    if (!await extentCopy(src, dest)) return; // not GNU cp here: copyData's test covers the fallback
    expect(fs.statSync(dest).size).toBe(256 * MiB);
    expect([readAt(dest, 0, 4), readAt(dest, 100 * MiB + 3, 6), readAt(dest, 256 * MiB - 4, 4)]).toEqual(['head', 'middle', 'tail']);
    expect(allocated(dest)).toBeLessThanOrEqual(4 * MiB);
    await extentCopy(path.join(dir, 'zeros'), dest);
    expect(fs.statSync(dest).size).toBe(8 * MiB);
    expect(allocated(dest)).toBeLessThanOrEqual(1 * MiB);
    await expect(extentCopy(path.join(dir, 'absent'), dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('copyData reflinks where the filesystem can and falls back to an extent or the sparse copy where it cannot', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, 'x'.repeat(5000));
    const dest = path.join(dir, 'dest');
    expect(['reflink', 'extents', 'sparse']).toContain(await copyData(src, dest));
    expect(fs.readFileSync(dest, 'utf8')).toBe('x'.repeat(5000));
  });

  it('a snapshot is a copy of the volume at that moment, at <dir>/snapshot-<id>', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[0, 'before']]);
    const snap = await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    expect(snap).toBe(path.join(dir, 'snapshot-s1'));
    writeAt(loc, [[0, 'after!']]);
    expect(readAt(snap, 0, 6)).toBe('before');
    expect(fs.statSync(snap).size).toBe(GiB);
    expect(allocated(snap)).toBeLessThanOrEqual(2 * MiB);
  });

  it('a snapshot re-run after a crash mid-copy starts the copy again and leaves no temporary file', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[5 * MiB, 'data']]);
    // What a killed worker leaves: half a copy under the temporary name, nothing at the final one.
    fs.writeFileSync(partName(path.join(dir, 'snapshot-s1')), 'garbage from a dead attempt');
    const snap = await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    expect(readAt(snap, 0, 7)).toBe('\0'.repeat(7));
    expect(readAt(snap, 5 * MiB, 4)).toBe('data');
    expect(fs.existsSync(partName(snap))).toBe(false);
  });

  it('a snapshot re-run after it finished keeps the finished copy', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[0, 'first']]);
    const snap = await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    writeAt(loc, [[0, 'later']]);
    expect(await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' })).toBe(snap);
    expect(readAt(snap, 0, 5)).toBe('first');
  });

  it('finds the volume for a snapshot when its recorded location is stale (moved under a server folder)', async () => {
    const top = await driver.create({ id: 'v1' }, 1);
    writeAt(top, [[0, 'moved']]);
    const res = await driver.attach({ id: 'v1', location: top }, { serverId: 'srv1', mode: 'rw' });
    const snap = await driver.snapshot({ id: 'v1', location: top }, { id: 's1' });
    expect(res.location).toBe(path.join(dir, 'srv1', 'volume-v1'));
    expect(readAt(snap, 0, 5)).toBe('moved');
  });

  it('copyFrom a snapshot or a volume gives a new volume with the data, grown to the new size', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[123, 'pattern']]);
    await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    const fromSnap = await driver.copyFrom({ id: 'v2' }, 2, { kind: 'snapshot', snapshot: { id: 's1' } });
    const clone = await driver.copyFrom({ id: 'v3' }, 1, { kind: 'volume', volume: { id: 'v1', location: loc } });
    expect(fromSnap).toBe(path.join(dir, 'volume-v2'));
    expect(fs.statSync(fromSnap).size).toBe(2 * GiB);
    expect(fs.statSync(clone).size).toBe(GiB);
    expect([readAt(fromSnap, 123, 7), readAt(clone, 123, 7)]).toEqual(['pattern', 'pattern']);
  });

  it('copyFrom re-run: a finished copy is only grown; a half copy is started again', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[0, 'source']]);
    // Crashed after the rename, before the size was set: the file is there, smaller than asked.
    const done = await driver.copyFrom({ id: 'v2' }, 1, { kind: 'volume', volume: { id: 'v1', location: loc } });
    writeAt(done, [[0, 'copied']]);
    expect(await driver.copyFrom({ id: 'v2' }, 2, { kind: 'volume', volume: { id: 'v1', location: loc } })).toBe(done);
    expect(fs.statSync(done).size).toBe(2 * GiB);
    expect(readAt(done, 0, 6)).toBe('copied');
    // Crashed mid-copy: only the temporary file exists.
    fs.writeFileSync(partName(path.join(dir, 'volume-v3')), 'half');
    const v3 = await driver.copyFrom({ id: 'v3' }, 1, { kind: 'volume', volume: { id: 'v1', location: loc } });
    expect(readAt(v3, 0, 6)).toBe('source');
    expect(fs.existsSync(partName(v3))).toBe(false);
  });

  it('copyFrom a snapshot whose data is gone fails for good', async () => {
    await expect(driver.copyFrom({ id: 'v2' }, 1, { kind: 'snapshot', snapshot: { id: 'nope' } }))
      .rejects.toMatchObject({ transient: false });
  });

  it('revertToSnapshot puts the snapshot bytes back in place, and may run again', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[7, 'old']]);
    await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    writeAt(loc, [[7, 'new'], [GiB - 3, 'end']]);
    await driver.revertToSnapshot({ id: 'v1', location: loc }, { id: 's1' });
    await driver.revertToSnapshot({ id: 'v1', location: loc }, { id: 's1' });
    expect([readAt(loc, 7, 3), readAt(loc, GiB - 3, 3)]).toEqual(['old', '\0\0\0']);
    expect(fs.statSync(loc).size).toBe(GiB);
  });

  it('removeSnapshot removes the file and any half copy; a missing snapshot is success', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    const snap = await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    fs.writeFileSync(partName(snap), 'half');
    await driver.removeSnapshot({ id: 's1', location: snap });
    await driver.removeSnapshot({ id: 's1', location: snap });
    expect(fs.readdirSync(dir)).toEqual(['volume-v1']);
  });

  it('refuses a snapshot location outside the storage directory', async () => {
    await expect(driver.removeSnapshot({ id: 's1', location: '/etc/passwd' })).rejects.toMatchObject({ transient: false });
  });
});
