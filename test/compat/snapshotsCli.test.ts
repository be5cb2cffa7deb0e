/**
 * Snapshots, volumes from a source and revert driven by the real Debian
 * clients against the built all-in-one: `cinder snapshot-*`, `cinder create
 * --snapshot-id/--source-volid`, `cinder revert-to-snapshot` (cinderclient
 * 9.1, 3.70) and `openstack volume snapshot *` (openstackclient 6.0). The
 * tests look at the volume files on disk. The tests build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CliError, parseProperties, parseTable, poll, PollAbort, startCairn, type CompatCairn } from './cli';

let cairn: CompatCairn;
beforeAll(async () => {
  cairn = await startCairn();
}, 90_000);
afterAll(async () => {
  await cairn?.stop();
}, 30_000);

const cinder = (...args: string[]) => cairn.cinder(...args);
const fileDir = () => path.join(cairn.dataDir, 'volumes', 'file');

/** `cinder <show>` as an object, polled until `status` is `want` (an error status ends the wait). */
function status(show: 'show' | 'snapshot-show', id: string, want: string): Promise<Record<string, string>> {
  return poll(
    `${show} ${id} ${want}`,
    async () => {
      const p = parseProperties(await cinder(show, id));
      if (p.status === want) return p;
      if (p.status?.startsWith('error') && !want.startsWith('error')) throw new PollAbort(`${id} went to ${p.status}`);
      return undefined;
    },
    { timeoutMs: 60_000 },
  );
}

function gone(show: 'show' | 'snapshot-show', id: string): Promise<CliError> {
  return poll(
    `${id} gone`,
    async () => {
      try {
        await cinder(show, id);
        return undefined;
      } catch (err) {
        if (err instanceof CliError && /No (volume|snapshot) with a name or ID of|\(HTTP 404\)/.test(err.stderr)) return err;
        throw err;
      }
    },
    { timeoutMs: 60_000 },
  );
}

function writeAt(file: string, pos: number, text: string): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from(text), 0, text.length, pos);
  fs.closeSync(fd);
}

function readAt(file: string, pos: number, n: number): string {
  const buf = Buffer.alloc(n);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, buf, 0, n, pos);
  fs.closeSync(fd);
  return buf.toString();
}

describe('cinder CLI: snapshots, clones, revert', () => {
  let vol: string;
  let snap: string;

  it('snapshot-create of an available volume; snapshot-show and snapshot-list show it available', async () => {
    vol = parseProperties(await cinder('create', '--name', 'snap-src', '1')).id!;
    await status('show', vol, 'available');
    writeAt(path.join(fileDir(), `volume-${vol}`), 1000, 'first state');
    const created = parseProperties(await cinder('snapshot-create', '--name', 'snap-1', '--metadata', 'k=v', vol));
    expect(created).toMatchObject({ name: 'snap-1', volume_id: vol, status: 'creating', size: '1' });
    snap = created.id!;
    const shown = await status('snapshot-show', snap, 'available');
    expect(shown).toMatchObject({ 'os-extended-snapshot-attributes:progress': '100%', consumes_quota: 'True' });
    expect(parseTable(await cinder('snapshot-list', '--volume-id', vol)).map((r) => [r.ID, r.Status, r.Name])).toEqual([
      [snap, 'available', 'snap-1'],
    ]);
    expect(parseProperties(await cinder('snapshot-metadata-show', snap))).toEqual({ k: 'v' });
  });

  it('delete of the volume is refused while it has snapshots', async () => {
    const err = await cinder('delete', vol).then(
      () => undefined,
      (e: CliError) => e,
    );
    expect(err?.stdout + (err?.stderr ?? '')).toMatch(/have snapshots/);
    expect(parseProperties(await cinder('show', vol)).status).toBe('available');
  });

  it('create --snapshot-id and --source-volid copy the data', async () => {
    writeAt(path.join(fileDir(), `volume-${vol}`), 1000, 'later state');
    const fromSnap = parseProperties(await cinder('create', '--snapshot-id', snap, '--name', 'from-snap', '2'));
    const clone = parseProperties(await cinder('create', '--source-volid', vol, '--name', 'clone'));
    expect(fromSnap).toMatchObject({ snapshot_id: snap, size: '2' });
    expect(clone).toMatchObject({ source_volid: vol, size: '1' });
    await status('show', fromSnap.id!, 'available');
    await status('show', clone.id!, 'available');
    expect(readAt(path.join(fileDir(), `volume-${fromSnap.id}`), 1000, 11)).toBe('first state');
    expect(readAt(path.join(fileDir(), `volume-${clone.id}`), 1000, 11)).toBe('later state');
  });

  it("revert-to-snapshot puts the snapshot's data back", async () => {
    await cinder('revert-to-snapshot', snap);
    await poll(
      'revert done',
      async () =>
        parseProperties(await cinder('show', vol)).status === 'available' &&
        readAt(path.join(fileDir(), `volume-${vol}`), 1000, 11) === 'first state',
      { timeoutMs: 60_000 },
    );
  });

  it('snapshot-reset-state and snapshot-delete', async () => {
    await cinder('snapshot-reset-state', '--state', 'error', snap);
    expect(parseProperties(await cinder('snapshot-show', snap)).status).toBe('error');
    await cinder('snapshot-delete', snap);
    await gone('snapshot-show', snap);
    expect(fs.existsSync(path.join(fileDir(), `snapshot-${snap}`))).toBe(false);
  });

  it('delete --cascade removes a volume with its snapshots', async () => {
    const s2 = parseProperties(await cinder('snapshot-create', vol)).id!;
    await status('snapshot-show', s2, 'available');
    await cinder('delete', '--cascade', vol);
    await gone('show', vol);
    await gone('snapshot-show', s2);
  });
});

describe('openstack CLI: volume snapshots', () => {
  const osc = (...args: string[]) => cairn.openstack(...args);

  it('volume snapshot create, list, show, set and delete', async () => {
    const vol = JSON.parse(await osc('volume', 'create', '--size', '1', 'osc-src', '-f', 'json')).id as string;
    await status('show', vol, 'available');
    // OSC 6.0 always passes force (False by default), which cinderclient 9.1 itself refuses from 3.66
    // (a ValueError before any request); --force passes True, which 3.66+ accepts and ignores.
    const created = JSON.parse(await osc('volume', 'snapshot', 'create', '--force', '--volume', vol, 'osc-snap', '-f', 'json'));
    expect(created).toMatchObject({ name: 'osc-snap', volume_id: vol });
    await status('snapshot-show', created.id, 'available');
    const listed = JSON.parse(await osc('volume', 'snapshot', 'list', '-f', 'json'));
    expect(listed.map((s: any) => s.ID)).toContain(created.id);
    await osc('volume', 'snapshot', 'set', '--name', 'osc-renamed', '--property', 'a=b', created.id);
    const shown = JSON.parse(await osc('volume', 'snapshot', 'show', created.id, '-f', 'json'));
    expect(shown).toMatchObject({ name: 'osc-renamed', status: 'available' });
    await osc('volume', 'snapshot', 'delete', created.id);
    await gone('snapshot-show', created.id);
  });
});
