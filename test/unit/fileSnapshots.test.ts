import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileDriver } from '../../src/workers/drivers/file';
import { copyAtomically, copyData, extentCopy, partName, partsOf, sparseCopy } from '../../src/workers/drivers/fileCopy';

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
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fs-'));
    driver = new FileDriver(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the chunked copy keeps every byte and leaves holes as holes', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, '');
    fs.truncateSync(src, 64 * MiB);
    writeAt(src, [
      [0, 'head'],
      [10 * MiB + 3, 'middle'],
      [64 * MiB - 4, 'tail'],
    ]);
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

  it('copyData reflinks where the filesystem can and falls back to an extent copy (cp) or the sparse copy where it cannot', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, 'x'.repeat(5000));
    const dest = path.join(dir, 'dest');
    expect(['reflink', 'extents', 'sparse']).toContain(await copyData(src, dest));
    expect(fs.readFileSync(dest, 'utf8')).toBe('x'.repeat(5000));
  });

  it('the extent copy keeps holes as holes and every byte of data', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, '');
    fs.truncateSync(src, 3 * GiB);
    writeAt(src, [
      [0, 'head'],
      [2 * GiB + 5, 'middle'],
      [3 * GiB - 4, 'tail'],
    ]);
    const dest = path.join(dir, 'dest');
    expect(await extentCopy(src, dest)).toBe(true);
    expect(fs.statSync(dest).size).toBe(3 * GiB);
    expect([readAt(dest, 0, 4), readAt(dest, 2 * GiB + 5, 6), readAt(dest, 3 * GiB - 4, 4)]).toEqual(['head', 'middle', 'tail']);
    expect(allocated(dest)).toBeLessThanOrEqual(4 * MiB);
  });

  it('an attempt copies into its own temporary file, renames through its commit step, and clears what other attempts left', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, 'y'.repeat(3000));
    const dest = path.join(dir, 'dest');
    fs.writeFileSync(partName(dest, 'stale'), "a stale attempt's half copy");
    const committed: boolean[] = [];
    await copyAtomically(src, dest, {
      tag: 'mine',
      sourceBytes: 2000,
      minBytes: 4096,
      commit: async (step) => {
        expect(fs.existsSync(partName(dest, 'mine'))).toBe(true);
        const v = await step();
        committed.push(true);
        return v;
      },
    });
    expect(committed).toEqual([true]);
    const data = fs.readFileSync(dest);
    expect(data.length).toBe(4096);
    expect(data.subarray(0, 2000).toString()).toBe('y'.repeat(2000)); // the source as it was at its recorded size
    expect(data.subarray(2000).every((b) => b === 0)).toBe(true);
    expect(await partsOf(dest)).toEqual([]);
  });

  it('a copy whose attempt is aborted or whose commit is refused leaves neither the target nor its temporary file', async () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, '');
    fs.truncateSync(src, 64 * MiB);
    writeAt(src, [
      [0, 'data'],
      [40 * MiB, 'more'],
    ]);
    const dest = path.join(dir, 'dest');
    const ac = new AbortController();
    ac.abort(new Error('lost'));
    await expect(copyAtomically(src, dest, { tag: 't1', signal: ac.signal })).rejects.toThrow('lost');
    const refused = copyAtomically(src, dest, {
      tag: 't2',
      commit: async () => {
        throw new Error('not the holder');
      },
    });
    await expect(refused).rejects.toThrow('not the holder');
    // The chunked copy checks the signal between reads: aborted mid-way (fault delay), it stops there.
    const mid = new AbortController();
    const slow = copyAtomically(src, dest, { tag: 't3', signal: mid.signal, delayPerReadMs: 50 });
    setTimeout(() => mid.abort(new Error('lost mid-copy')), 20);
    await expect(slow).rejects.toThrow('lost mid-copy');
    expect(fs.existsSync(dest)).toBe(false);
    expect(await partsOf(dest)).toEqual([]);
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
    await expect(driver.copyFrom({ id: 'v2' }, 1, { kind: 'snapshot', snapshot: { id: 'nope' } })).rejects.toMatchObject({
      transient: false,
    });
  });

  it('revertToSnapshot puts the snapshot bytes back in place, and may run again', async () => {
    const loc = await driver.create({ id: 'v1' }, 1);
    writeAt(loc, [[7, 'old']]);
    await driver.snapshot({ id: 'v1', location: loc }, { id: 's1' });
    writeAt(loc, [
      [7, 'new'],
      [GiB - 3, 'end'],
    ]);
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
