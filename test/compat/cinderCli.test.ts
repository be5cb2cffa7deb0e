/**
 * The real Debian clients against the built all-in-one on its embedded default
 * (PGlite on disk, in-process transport): python3-cinderclient 9.1 (`cinder`,
 * noauth, microversion 3.70) and python3-openstackclient 6.0 (`openstack`).
 * The tests of a describe block build on each other, in order.
 */
import { CliError, HOSTNAME, parseProperties, parsePyStrDict, parseTable, poll, PollAbort, startCairn, type CompatCairn } from './cli';

let cairn: CompatCairn;
beforeAll(async () => {
  cairn = await startCairn();
}, 90_000);
afterAll(async () => {
  await cairn?.stop();
}, 30_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const cinder = (...args: string[]) => cairn.cinder(...args);

/** `cinder show` as an object, polled until `status` is `want` (an `error` status ends the wait at once). */
async function cinderStatus(id: string, want: string): Promise<Record<string, string>> {
  return poll(`volume ${id} to be ${want}`, async () => {
    const vol = parseProperties(await cinder('show', id));
    if (vol.status === want) return vol;
    if (vol.status?.startsWith('error') && !want.startsWith('error'))
      throw new PollAbort(`volume ${id} went to ${vol.status}, not ${want}`);
    return undefined;
  });
}

/** Polls until `show` fails as cinderclient does for an unknown volume (lookup by id, then by name): the error. */
async function cinderGone(id: string): Promise<CliError> {
  return poll(`volume ${id} to be gone`, async () => {
    try {
      await cinder('show', id);
      return undefined;
    } catch (err) {
      // Only "not found" means gone; any other failure is retried and reported on timeout.
      if (err instanceof CliError && /No volume with a name or ID of|\(HTTP 404\)/.test(err.stderr)) return err;
      throw err;
    }
  });
}

describe('cinder CLI (python3-cinderclient 9.1, noauth, 3.70) on the embedded all-in-one', () => {
  const TYPE = 'compat-fast';
  const PICKY = 'compat-picky';
  let typeId: string;
  let plainId: string; // `cinder create 1`
  let namedId: string; // `cinder create --volume-type compat-fast --name compat-x --metadata a=b 1`

  it('type-create makes a public type that type-list shows next to __DEFAULT__', async () => {
    const [row] = parseTable(await cinder('type-create', TYPE));
    expect(row).toMatchObject({ Name: TYPE, Is_Public: 'True' });
    expect(row!.ID).toMatch(UUID);
    typeId = row!.ID!;
    const names = parseTable(await cinder('type-list')).map((r) => [r.Name, r.ID]);
    expect(names).toEqual(
      expect.arrayContaining([
        [TYPE, typeId],
        ['__DEFAULT__', expect.stringMatching(UUID)],
      ]),
    );
  });

  it('type-show finds the type by name', async () => {
    const t = parseProperties(await cinder('type-show', TYPE));
    expect(t).toMatchObject({ id: typeId, name: TYPE, is_public: 'True' });
  });

  it('type-key set adds extra specs that extra-specs-list shows; type-key unset removes one', async () => {
    await cinder('type-key', TYPE, 'set', 'k=v', 'volume_backend_name=file');
    const specsOf = async () => parsePyStrDict(parseTable(await cinder('extra-specs-list')).find((r) => r.Name === TYPE)!.extra_specs!);
    expect(await specsOf()).toEqual({ k: 'v', volume_backend_name: 'file' });
    // `k` names no backend capability: left on, no backend could take the type's volumes.
    await cinder('type-key', TYPE, 'unset', 'k');
    expect(await specsOf()).toEqual({ volume_backend_name: 'file' });
  });

  it('create 1 answers a 1 GiB volume of the default type, which then reaches available', async () => {
    const created = parseProperties(await cinder('create', '1'));
    expect(created.id).toMatch(UUID);
    // name and description null, as Cinder answers a create with only a size.
    expect(created).toMatchObject({
      size: '1',
      name: 'None',
      description: 'None',
      volume_type: '__DEFAULT__',
      bootable: 'false',
      multiattach: 'False',
    });
    expect(['creating', 'available']).toContain(created.status);
    plainId = created.id!;
    const vol = await cinderStatus(plainId, 'available');
    expect(vol['os-vol-host-attr:host']).toBe(`${HOSTNAME}@file#file`);
    expect(vol['os-vol-tenant-attr:tenant_id']).toBe(cairn.projectId);
    expect(vol.user_id).toBe(cairn.userId);
  });

  it('create --volume-type --name --metadata makes a volume of that type with that name and metadata', async () => {
    const created = parseProperties(await cinder('create', '--volume-type', TYPE, '--name', 'compat-x', '--metadata', 'a=b', '--', '1'));
    expect(created).toMatchObject({ name: 'compat-x', volume_type: TYPE, volume_type_id: typeId, size: '1' });
    expect(parsePyStrDict(created.metadata!)).toEqual({ a: 'b' });
    namedId = created.id!;
    const vol = await cinderStatus(namedId, 'available');
    expect(vol['os-vol-host-attr:host']).toBe(`${HOSTNAME}@file#file`);
  });

  it('list shows both volumes with their status, name, size and type', async () => {
    const rows = parseTable(await cinder('list'));
    const byId = Object.fromEntries(rows.map((r) => [r.ID, r]));
    // cinderclient prints a null name as '-'.
    expect(byId[plainId]).toMatchObject({ Status: 'available', Name: '-', Size: '1', 'Volume Type': '__DEFAULT__', Bootable: 'false' });
    expect(byId[namedId]).toMatchObject({ Status: 'available', Name: 'compat-x', Size: '1', 'Volume Type': TYPE });
    expect(rows).toHaveLength(2);
  });

  it('list --name returns only the volume of that name, and nothing for an unknown name', async () => {
    expect(parseTable(await cinder('list', '--name', 'compat-x')).map((r) => r.ID)).toEqual([namedId]);
    expect(parseTable(await cinder('list', '--name', 'compat-nothing'))).toEqual([]);
  });

  it('list --metadata (sent as a Python dict literal) returns only volumes with that key and value', async () => {
    // cinderclient sends `metadata={'a': 'b'}` and filters nothing itself: a=c and nokey=b must come back empty.
    expect(parseTable(await cinder('list', '--metadata', 'a=b')).map((r) => r.ID)).toEqual([namedId]);
    expect(parseTable(await cinder('list', '--metadata', 'a=c'))).toEqual([]);
    expect(parseTable(await cinder('list', '--metadata', 'nokey=b'))).toEqual([]);
  });

  it('show finds a volume by name as well as by id', async () => {
    const byName = parseProperties(await cinder('show', 'compat-x'));
    const byId = parseProperties(await cinder('show', namedId));
    expect(byName.id).toBe(namedId);
    expect(byName).toEqual(byId);
  });

  it('rename changes the name that show and list --name report', async () => {
    await cinder('rename', namedId, 'compat-y');
    expect(parseProperties(await cinder('show', namedId)).name).toBe('compat-y');
    expect(parseTable(await cinder('list', '--name', 'compat-x'))).toEqual([]);
    expect(parseTable(await cinder('list', '--name', 'compat-y')).map((r) => r.ID)).toEqual([namedId]);
  });

  it('metadata set merges keys and metadata unset removes one', async () => {
    await cinder('metadata', namedId, 'set', 'k=v', 'x=y');
    expect(parseProperties(await cinder('metadata-show', namedId))).toEqual({ a: 'b', k: 'v', x: 'y' });
    await cinder('metadata', namedId, 'unset', 'x');
    expect(parseProperties(await cinder('metadata-show', namedId))).toEqual({ a: 'b', k: 'v' });
    // show prints metadata one `key : value` per line.
    expect(
      parseProperties(await cinder('show', namedId))
        .metadata!.split('\n')
        .sort(),
    ).toEqual(['a : b', 'k : v']);
  });

  it('summary (3.12+) counts the volumes, sums their sizes and lists metadata values', async () => {
    const s = parseProperties(await cinder('summary'));
    expect(s).toMatchObject({ total_count: '2', total_size: '2' });
    expect(s.metadata!.split('\n').sort()).toEqual(["a : ['b']", "k : ['v']"]);
  });

  it('availability-zone-list shows the one zone, available', async () => {
    expect(parseTable(await cinder('availability-zone-list'))).toEqual([{ Name: 'nova', Status: 'available' }]);
  });

  it('service-list shows an up backup service, scheduler and volume service for the file backend', async () => {
    const rows = parseTable(await cinder('service-list'));
    expect(rows.map((r) => [r.Binary, r.Host]).sort()).toEqual([
      ['cinder-backup', HOSTNAME],
      ['cinder-scheduler', HOSTNAME],
      ['cinder-volume', `${HOSTNAME}@file`],
    ]);
    for (const r of rows) expect(r).toMatchObject({ Zone: 'nova', Status: 'enabled', State: 'up' });
    expect(rows.find((r) => r.Binary === 'cinder-volume')!['Backend State']).toBe('up');
  });

  it('absolute-limits reports the quota and what the two volumes use (9.1 has no `limits`)', async () => {
    const l = parseProperties(await cinder('absolute-limits'));
    expect(l).toMatchObject({ totalVolumesUsed: '2', totalGigabytesUsed: '2', totalSnapshotsUsed: '0' });
    for (const k of ['maxTotalVolumes', 'maxTotalVolumeGigabytes', 'maxTotalSnapshots']) expect(l[k]).toMatch(/^-?\d+$/);
    expect(parseTable(await cinder('rate-limits'))).toEqual([]);
  });

  it('type-delete of a type that volumes still use is refused', async () => {
    const err = await cinder('type-delete', TYPE).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).stdout + (err as CliError).stderr).toMatch(/deletion is not allowed with volumes present with the type/);
  });

  it('a bare extra spec that no backend offers sends a new volume of the type to error', async () => {
    await cinder('type-create', PICKY);
    await cinder('type-key', PICKY, 'set', 'k=v');
    const created = parseProperties(await cinder('create', '--volume-type', PICKY, '--name', 'compat-picky-vol', '1'));
    const vol = await cinderStatus(created.id!, 'error');
    expect(vol.volume_type).toBe(PICKY);
    await cinder('delete', created.id!);
    await cinderGone(created.id!);
  });

  it('delete is accepted, and then show says no volume with that id exists', async () => {
    expect(await cinder('delete', plainId, namedId)).toMatch(new RegExp(`Request to delete volume ${plainId} has been accepted`));
    for (const id of [plainId, namedId]) {
      const err = await cinderGone(id);
      expect(err.stderr).toContain(`No volume with a name or ID of '${id}' exists.`);
    }
    expect(parseTable(await cinder('list'))).toEqual([]);
  });

  it('type-delete removes types no volume uses any more', async () => {
    expect(await cinder('type-delete', TYPE, PICKY)).toContain(`Request to delete volume type ${TYPE} has been accepted.`);
    expect(parseTable(await cinder('type-list')).map((r) => r.Name)).toEqual(['__DEFAULT__']);
  });
});

describe('openstack CLI (python3-openstackclient 6.0) on the embedded all-in-one', () => {
  let id: string;
  const osc = (...args: string[]) => cairn.openstack(...args);
  const json = async (...args: string[]) => JSON.parse(await osc(...args, '-f', 'json'));

  it('volume create through a noauth cloud answers the new volume, which then reaches available', async () => {
    const v = await json('volume', 'create', '--size', '1', '--property', 'a=b', 'osc-vol');
    expect(v).toMatchObject({ name: 'osc-vol', size: 1, properties: { a: 'b' }, type: '__DEFAULT__' });
    expect(v.id).toMatch(UUID);
    id = v.id;
    const shown = await poll('osc-vol available', async () => {
      const s = await json('volume', 'show', id);
      if (s.status === 'error') throw new PollAbort('osc-vol went to error');
      return s.status === 'available' && s;
    });
    expect(shown).toMatchObject({ id, name: 'osc-vol', 'os-vol-tenant-attr:tenant_id': cairn.projectId });
  });

  it('volume show finds the volume by name', async () => {
    expect((await json('volume', 'show', 'osc-vol')).id).toBe(id);
  });

  it('volume list shows it, with --long its type and properties', async () => {
    expect(await json('volume', 'list')).toEqual([{ ID: id, Name: 'osc-vol', Status: 'available', Size: 1, 'Attached to': [] }]);
    expect(await json('volume', 'list', '--long')).toEqual([
      expect.objectContaining({ ID: id, Type: '__DEFAULT__', Properties: { a: 'b' } }),
    ]);
  });

  it('volume list also works with --os-auth-type noauth given as options (endpoint without the project id)', async () => {
    const out = await cairn.openstackBare(
      '--os-auth-type',
      'noauth',
      '--os-endpoint',
      `${cairn.url}/v3`,
      '--os-project-id',
      cairn.projectId,
      '--os-user-id',
      cairn.userId,
      '--os-volume-api-version',
      '3.70',
      'volume',
      'list',
      '-f',
      'json',
    );
    expect(JSON.parse(out).map((v: { ID: string }) => v.ID)).toEqual([id]);
  });

  it('volume delete removes it: show then says no volume with that name or id exists', async () => {
    await osc('volume', 'delete', id);
    const err = await poll('osc-vol gone', async () => {
      try {
        await osc('volume', 'show', id);
        return undefined;
      } catch (e) {
        if (e instanceof CliError && /No volume with a name or ID of/.test(e.stderr)) return e;
        throw e;
      }
    });
    expect(err.stderr).toContain(`No volume with a name or ID of '${id}' exists.`);
    expect(await json('volume', 'list')).toEqual([]);
  });
});
