/**
 * Issue 6's acceptance with the real clients against the built all-in-one:
 * `nova boot --block-device` and `openstack server create --volume`,
 * `openstack server add/remove volume`, `nova volume-attachments`,
 * `openstack server stop/start`, detachable root volumes, and
 * `openstack server delete` honouring delete_on_termination. The file
 * backend's folders are looked at on disk. The tests build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CliError, parseProperties, parseTable, poll, PollAbort, startCairn, type CompatCairn } from './cli';
import { computeClis, type ComputeClis } from './computeCli';

let cairn: CompatCairn;
let cli: ComputeClis;
beforeAll(async () => {
  cairn = await startCairn();
  cli = await computeClis(cairn);
}, 90_000);
afterAll(async () => {
  await cli?.stop();
  await cairn?.stop();
}, 30_000);

const osc = (...args: string[]) => cli.openstack(...args);
const json = async (...args: string[]) => JSON.parse(await osc(...args, '-f', 'json'));
const fileDir = () => path.join(cairn.dataDir, 'volumes', 'file');
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the command to fail');
    },
    (e: unknown) => {
      if (!(e instanceof CliError)) throw e;
      return `${e.stderr}${e.stdout}`;
    },
  );

/** `openstack server show` once the server is idle in `status`. */
const serverIs = (name: string, status: string) =>
  poll(
    `server ${name} to be ${status}`,
    async () => {
      const s = await json('server', 'show', name);
      if (s.status === 'ERROR' && status !== 'ERROR') throw new PollAbort(`server ${name} is ERROR: ${JSON.stringify(s.fault)}`);
      return s.status === status && s['OS-EXT-STS:task_state'] === null && s;
    },
    { timeoutMs: 60_000 },
  );

const volumeIs = (id: string, status: string) =>
  poll(
    `volume ${id} to be ${status}`,
    async () => {
      const v = await json('volume', 'show', id);
      return v.status === status && v;
    },
    { timeoutMs: 60_000 },
  );

/** The volume ids of a server, root first (volumes_attached as OSC prints it with -f json). */
async function volumesOf(name: string): Promise<Array<{ id: string; delete_on_termination: boolean }>> {
  return (await json('server', 'show', name)).volumes_attached;
}

jest.setTimeout(180_000);

describe('servers with the nova and openstack CLIs', () => {
  let rootA = '';
  let bootable = '';

  it("nova boot --block-device source=blank,dest=volume,size=1,bootindex=0,shutdown=remove → ACTIVE, its root volume in-use under the server's folder", async () => {
    const out = parseProperties(
      await cli.nova(
        'boot',
        '--flavor',
        'm1.tiny',
        '--nic',
        'none',
        '--block-device',
        'source=blank,dest=volume,size=1,bootindex=0,shutdown=remove',
        'srv-a',
      ),
    );
    expect(out.status).toBe('BUILD');
    const s = await serverIs('srv-a', 'ACTIVE');
    const vols = await volumesOf('srv-a');
    expect(vols).toEqual([{ id: expect.any(String), delete_on_termination: true }]);
    rootA = vols[0]!.id;
    const v = await json('volume', 'show', rootA);
    expect(v.status).toBe('in-use');
    expect(fs.existsSync(path.join(fileDir(), s.id, `volume-${rootA}`))).toBe(true);
  });

  it('openstack server create --volume (bootable) --block-device …delete_on_termination=true → ACTIVE', async () => {
    bootable = (await json('volume', 'create', '--size', '1', '--bootable', 'boot-b')).id;
    await volumeIs(bootable, 'available');
    await osc(
      'server',
      'create',
      '--flavor',
      'm1.tiny',
      '--nic',
      'none',
      '--volume',
      bootable,
      '--block-device',
      'source_type=blank,destination_type=volume,volume_size=1,delete_on_termination=true',
      '--wait',
      'srv-b',
    );
    const vols = await volumesOf('srv-b');
    expect(vols).toEqual([
      { id: bootable, delete_on_termination: false },
      { id: expect.any(String), delete_on_termination: true },
    ]);
    expect((await json('volume', 'show', bootable)).status).toBe('in-use');
  });

  it('openstack server add volume, nova volume-attachments, openstack server remove volume', async () => {
    const data = (await json('volume', 'create', '--size', '1', 'data-a')).id;
    await volumeIs(data, 'available');
    const added = parseProperties(await osc('server', 'add', 'volume', 'srv-a', 'data-a'));
    expect(added).toMatchObject({ 'Volume ID': data, Device: '/dev/vdb', 'Delete On Termination': 'False' });
    await volumeIs(data, 'in-use');
    const rows = parseTable(await cli.nova('volume-attachments', 'srv-a'));
    expect(rows.map((r) => [r.DEVICE, r['VOLUME ID'], r['DELETE ON TERMINATION']])).toEqual([
      ['/dev/vda', rootA, 'True'],
      ['/dev/vdb', data, 'False'],
    ]);
    await osc('server', 'remove', 'volume', 'srv-a', 'data-a');
    await volumeIs(data, 'available');
    expect(parseTable(await cli.nova('volume-attachments', 'srv-a'))).toHaveLength(1);
  });

  it('nova volume-update swaps a data volume: the new one in-use at the same device, the old one available', async () => {
    const oldId = (await json('volume', 'create', '--size', '1', 'swap-old')).id;
    const newId = (await json('volume', 'create', '--size', '1', 'swap-new')).id;
    await volumeIs(oldId, 'available');
    await volumeIs(newId, 'available');
    await osc('server', 'add', 'volume', 'srv-a', 'swap-old');
    await volumeIs(oldId, 'in-use');
    await cli.nova('volume-update', 'srv-a', oldId, newId);
    await volumeIs(newId, 'in-use');
    await volumeIs(oldId, 'available');
    const rows = parseTable(await cli.nova('volume-attachments', 'srv-a'));
    expect(rows.map((r) => [r.DEVICE, r['VOLUME ID']])).toEqual([
      ['/dev/vda', rootA],
      ['/dev/vdb', newId],
    ]);
    const s = await json('server', 'show', 'srv-a');
    expect(fs.existsSync(path.join(fileDir(), s.id, `volume-${newId}`))).toBe(true);
    expect(fs.existsSync(path.join(fileDir(), `volume-${oldId}`))).toBe(true);
    await osc('server', 'remove', 'volume', 'srv-a', 'swap-new');
    await volumeIs(newId, 'available');
  });

  it('the root volume: remove refused while ACTIVE (409), accepted after openstack server stop; then start is refused', async () => {
    const refused = await failure(osc('server', 'remove', 'volume', 'srv-a', rootA));
    expect(refused).toContain('409');
    expect(refused).toContain('Cannot detach the root device volume of instance');
    await osc('server', 'stop', 'srv-a');
    await serverIs('srv-a', 'SHUTOFF');
    await osc('server', 'remove', 'volume', 'srv-a', rootA);
    const v = await volumeIs(rootA, 'available');
    expect(v.bootable).toBe('false'); // a detached root is an ordinary volume: bootable stays as it was
    expect(await volumesOf('srv-a')).toEqual([]);
    expect(await failure(osc('server', 'start', 'srv-a'))).toContain('it has no root volume');
  });

  it('the detached root, added to another stopped server without a root, becomes its root; that server starts', async () => {
    await osc('server', 'stop', 'srv-b');
    await serverIs('srv-b', 'SHUTOFF');
    await osc('server', 'remove', 'volume', 'srv-b', bootable);
    await volumeIs(bootable, 'available');
    const added = parseProperties(await osc('server', 'add', 'volume', 'srv-b', rootA));
    expect(added.Device).toBe('/dev/vda');
    await osc('server', 'start', 'srv-b');
    const s = await serverIs('srv-b', 'ACTIVE');
    expect(fs.existsSync(path.join(fileDir(), s.id, `volume-${rootA}`))).toBe(true);
    expect(await failure(osc('server', 'remove', 'volume', 'srv-b', rootA))).toContain('409');
  });

  it('server delete honours delete_on_termination and leaves the server folders empty and gone', async () => {
    const b = await json('server', 'show', 'srv-b');
    const a = await json('server', 'show', 'srv-a');
    const blank = (await volumesOf('srv-b')).find((v) => v.delete_on_termination)!.id;
    await osc('server', 'delete', '--wait', 'srv-b');
    await cli.nova('delete', 'srv-a');
    await poll('srv-a to be gone', async () => !(await json('server', 'list')).some((r: any) => r.Name === 'srv-a'), { timeoutMs: 60_000 });
    // delete_on_termination=true: gone; attached with add volume (false): kept, available, back at the top level.
    await poll(`volume ${blank} to be deleted`, async () => !(await json('volume', 'list', '--long')).some((v: any) => v.ID === blank), {
      timeoutMs: 60_000,
    });
    await volumeIs(rootA, 'available');
    await volumeIs(bootable, 'available');
    expect(fs.existsSync(path.join(fileDir(), `volume-${rootA}`))).toBe(true);
    for (const s of [a, b]) expect(fs.existsSync(path.join(fileDir(), s.id))).toBe(false);
  });
});
