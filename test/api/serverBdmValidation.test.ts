/**
 * `POST /servers` with `block_device_mapping_v2`: each of Nova's validation
 * rules, status and message compared with Nova's. Citations are to Nova at
 * tag zed-eom (33cf6f6209, Nova 26 / Zed, the release the clients are from).
 * Every refusal leaves nothing behind: no server, no volume, no reservation.
 */
import { randomUUID } from 'node:crypto';
import { PROJECT, TOKEN, waitFor, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21, v3, VOLUME_HEADERS, withComputeCairn } from '../helpers/compute';
import { anImage } from '../helpers/images';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
withComputeCairn((c, n) => {
  cairn = c;
  nova = n;
});

/** Creates, expects a 400 `badRequest` with exactly `message`, and checks nothing was kept. */
async function refused(server: Record<string, unknown>, message: string, v = '2.89', status = 400): Promise<void> {
  const [servers, volumes] = [await cairn.db('servers').count({ n: '*' }), await cairn.db('volumes').count({ n: '*' })];
  const res = await nova.create(server, v);
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { [status === 400 ? 'badRequest' : 'forbidden']: { code: status, message } },
  });
  expect(await cairn.db('servers').count({ n: '*' })).toEqual(servers);
  expect(await cairn.db('volumes').count({ n: '*' })).toEqual(volumes);
}

const bdm = (...mappings: Array<Record<string, unknown>>) => ({ imageRef: '', block_device_mapping_v2: mappings });

describe('block_device_mapping_v2 schema (nova/api/openstack/compute/schemas/servers.py)', () => {
  it("an unknown key in a mapping → 400, jsonschema's text about that mapping (validators.py:311)", async () => {
    await refused(
      bdm({ ...blankRoot(), foo: 'bar' }),
      "Invalid input for field/attribute 0. Value: {'source_type': 'blank', " +
        "'destination_type': 'volume', 'volume_size': 1, 'boot_index': 0, 'foo': 'bar'}. Additional properties are not allowed ('foo' was unexpected)",
    );
  });

  it('tag exists at 2.32 and from 2.42 only (servers.py:248-255 and 322-324: the 2.32-only slip); 2.41 → unexpected', async () => {
    await refused(
      bdm(blankRoot(1, { tag: 'root' })),
      "Invalid input for field/attribute 0. Value: {'source_type': 'blank', " +
        "'destination_type': 'volume', 'volume_size': 1, 'boot_index': 0, 'tag': 'root'}. Additional properties are not allowed ('tag' was unexpected)",
      '2.41',
    );
    for (const v of ['2.32', '2.42'])
      expect(
        (await nova.create({ ...bdm(blankRoot(1, { tag: 'root' })), ...(v === '2.32' ? { networks: undefined } : {}) }, v)).status,
      ).toBe(202);
  });

  it('volume_type exists from 2.67 (servers.py:346-349)', async () => {
    await refused(
      bdm(blankRoot(1, { volume_type: '__DEFAULT__' })),
      "Invalid input for field/attribute 0. Value: {'source_type': 'blank', " +
        "'destination_type': 'volume', 'volume_size': 1, 'boot_index': 0, 'volume_type': '__DEFAULT__'}. Additional properties are not allowed ('volume_type' was unexpected)",
      '2.66',
    );
  });

  it('boot_index must be an integer or a numeric string (schema pattern)', async () => {
    await refused(
      bdm(blankRoot(1, { boot_index: 'x' })),
      "Invalid input for field/attribute boot_index. Value: x. 'x' does not match '^-?[0-9]+$'",
    );
  });

  it('volume_size must be ≥ 1 (parameter_types.volume_size)', async () => {
    await refused(bdm(blankRoot(0)), 'Invalid input for field/attribute volume_size. Value: 0. 0 is less than the minimum of 1');
  });
});

describe('BlockDeviceDict.from_api (nova/block_device.py)', () => {
  it('both block_device_mapping and _v2 → 400 (servers.py:499)', async () => {
    await refused(
      { ...bdm(blankRoot()), block_device_mapping: [{ volume_id: randomUUID(), device_name: 'vdb' }] },
      'Using different block_device_mapping syntaxes is not allowed in the same request.',
    );
  });

  it('a blank source with a uuid → Invalid device UUID (block_device.py:189)', async () => {
    await refused(bdm(blankRoot(1, { uuid: randomUUID() })), 'Block Device Mapping is Invalid: Invalid device UUID.');
  });

  it('a volume, snapshot or image source without a uuid → Missing device UUID (block_device.py:193)', async () => {
    for (const source_type of ['volume', 'snapshot', 'image']) {
      await refused(
        bdm({ source_type, destination_type: 'volume', boot_index: 0, volume_size: 1 }),
        'Block Device Mapping is Invalid: Missing device UUID.',
      );
    }
  });

  it('image → local is refused unless it is the imageRef root at boot index 0 (block_device.py:208)', async () => {
    const image = randomUUID();
    await refused(
      { block_device_mapping_v2: [{ source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0 }] },
      'Block Device Mapping is Invalid: Mapping image to local is not supported.',
    );
    await refused(
      { imageRef: image, block_device_mapping_v2: [{ source_type: 'image', uuid: image, destination_type: 'local', boot_index: 1 }] },
      'Block Device Mapping is Invalid: Mapping image to local is not supported.',
    );
  });

  it('a volume_type with destination local → 400 (block_device.py:212)', async () => {
    await refused(
      {
        imageRef: randomUUID(),
        block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'local', volume_type: 'x', boot_index: -1 }],
      },
      'Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.',
    );
  });

  it('a volume_type with an existing volume → 400 (block_device.py:219)', async () => {
    await refused(
      bdm({ source_type: 'volume', uuid: randomUUID(), destination_type: 'volume', boot_index: 0, volume_type: 'x' }),
      'Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.',
    );
  });
});

describe('servers.py and compute/api.py checks', () => {
  it('no imageRef and no mappings → Missing imageRef attribute (servers.py:1120)', async () => {
    await refused({}, 'Missing imageRef attribute');
    await refused({ imageRef: '' }, 'Missing imageRef attribute');
  });

  it('an unknown flavor → 400 FlavorNotFound (servers.py:826, exception.py:1090)', async () => {
    await refused({ ...bdm(blankRoot()), flavorRef: '99' }, 'Flavor 99 could not be found.');
  });

  it('boot indexes must be exactly 0..n-1: none, two 0s, a gap (compute/api.py:1928)', async () => {
    const text = 'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.';
    await refused(bdm(blankRoot(1, { boot_index: -1 })), text);
    await refused(bdm(blankRoot(), blankRoot()), text);
    await refused(bdm(blankRoot(), blankRoot(1, { boot_index: 2 })), text);
    await refused(bdm(blankRoot(1, { boot_index: null })), text);
  });

  it('a blank volume without a size → 400 (compute/api.py:1997)', async () => {
    await refused(
      bdm({ source_type: 'blank', destination_type: 'volume', boot_index: 0 }),
      "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size",
    );
  });

  it('an image volume without a size → 400 (compute/api.py:1964); an image that cannot be got → 400 (block_device.py:654, compute/api.py:1950)', async () => {
    const image = await anImage(cairn.url);
    const missing = randomUUID();
    await refused(
      {
        imageRef: image,
        block_device_mapping_v2: [
          { source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0 },
          { source_type: 'image', uuid: await anImage(cairn.url), destination_type: 'volume', boot_index: 1 },
        ],
      },
      "Images with destination_type 'volume' need to have a non-zero size specified",
    );
    await refused(
      {
        imageRef: image,
        block_device_mapping_v2: [
          { source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0 },
          { source_type: 'image', uuid: missing, destination_type: 'volume', boot_index: 1, volume_size: 1 },
        ],
      },
      `Block Device Mapping is Invalid: failed to get image ${missing}.`,
    );
    await refused(
      bdm({ source_type: 'image', uuid: missing, destination_type: 'volume', boot_index: 0, volume_size: 1 }),
      `Block Device Mapping is Invalid: failed to get image ${missing}.`,
    );
  });

  it('a boot volume that does not exist → failed to get volume (block_device.py:661)', async () => {
    const id = randomUUID();
    await refused(
      bdm({ source_type: 'volume', uuid: id, destination_type: 'volume', boot_index: 0 }),
      `Block Device Mapping is Invalid: failed to get volume ${id}.`,
    );
  });

  it('a boot volume that is not bootable → 400 (block_device.py:664)', async () => {
    const vol = await nova.volume();
    await refused(
      bdm({ source_type: 'volume', uuid: vol.id, destination_type: 'volume', boot_index: 0 }),
      `Block Device ${vol.id} is not bootable.`,
    );
    expect((await nova.cinderVolume(vol.id)).status).toBe('available');
  });

  it('a data volume that does not exist → VolumeNotFound as 400 (compute/api.py:1259, servers.py:829)', async () => {
    const id = randomUUID();
    await refused(
      bdm(blankRoot(), { source_type: 'volume', uuid: id, destination_type: 'volume', boot_index: 1 }),
      `Volume ${id} could not be found.`,
    );
  });

  it("a data volume that is in use → InvalidVolume with Cinder's reason (compute/api.py:1980, cinder.py:405)", async () => {
    const vol = await nova.volume();
    await nova.boot(bdm(blankRoot(), { source_type: 'volume', uuid: vol.id, destination_type: 'volume', boot_index: 1 }));
    await refused(
      bdm(blankRoot(), { source_type: 'volume', uuid: vol.id, destination_type: 'volume', boot_index: 1 }),
      `Invalid volume: Invalid input received: Invalid volume: Volume ${vol.id} status must be available or downloading to reserve, but the current status is in-use. (HTTP 400)`,
    );
  });

  it('a snapshot that does not exist: as the root → SnapshotNotFound, else InvalidBDMSnapshot (block_device.py:645, compute/api.py:1992)', async () => {
    const id = randomUUID();
    await refused(
      bdm({ source_type: 'snapshot', uuid: id, destination_type: 'volume', boot_index: 0 }),
      `Snapshot ${id} could not be found.`,
    );
    await refused(
      bdm(blankRoot(), { source_type: 'snapshot', uuid: id, destination_type: 'volume', boot_index: 1 }),
      `Block Device Mapping is Invalid: failed to get snapshot ${id}.`,
    );
  });

  it('an unknown volume_type → VolumeTypeNotFound as 400 (compute/api.py:1892)', async () => {
    await refused(bdm(blankRoot(1, { volume_type: 'nosuchtype' })), 'Volume type nosuchtype could not be found.');
  });

  it("an unknown disk_bus → 400 with InvalidBDM's text (compute/api.py:2005; InvalidBDMDiskBus spells msg_fmr)", async () => {
    await refused(bdm(blankRoot(1, { disk_bus: 'floppy-bus' })), 'Block Device Mapping is Invalid.');
  });

  it('local disks: ephemeral size, two swaps, more than 3 (compute/api.py:2011, 2016, 2029)', async () => {
    const image = await anImage(cairn.url);
    const withImage = (...more: Array<Record<string, unknown>>) => ({
      imageRef: image,
      block_device_mapping_v2: [{ source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0 }, ...more],
    });
    const local = (extra: Record<string, unknown> = {}) => ({ source_type: 'blank', destination_type: 'local', boot_index: -1, ...extra });
    await refused(
      withImage(local({ volume_size: 1 })),
      'Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.',
    );
    await refused(
      withImage(local({ guest_format: 'swap' }), local({ guest_format: 'swap' })),
      'Block Device Mapping is Invalid: More than one swap drive requested.',
    );
    await refused(withImage(local({ guest_format: 'swap', volume_size: 1 })), 'Swap drive requested is larger than instance type allows.');
    await refused(
      withImage(local(), local(), local()),
      'Block Device Mapping is Invalid: You specified more local devices than the limit allows',
    );
  });

  it('with an image root, no volume may take the root device name (compute/api.py:959)', async () => {
    const image = await anImage(cairn.url);
    await refused(
      {
        imageRef: image,
        block_device_mapping_v2: [
          { source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0 },
          { source_type: 'blank', destination_type: 'volume', volume_size: 1, device_name: '/dev/vda' },
        ],
      },
      'The volume cannot be assigned the same device name as the root device vda',
    );
  });

  it('an existing volume for several servers → 400 (compute/api.py:995)', async () => {
    await refused(
      { ...bdm(blankRoot(), { source_type: 'volume', uuid: randomUUID(), destination_type: 'volume', boot_index: 1 }), max_count: 2 },
      'Cannot attach one or more volumes to multiple instances',
    );
  });

  it('networks is required from 2.37 (servers.py:280)', async () => {
    const res = await nova
      .api()
      .post(v21('/servers'))
      .set(novaHeaders('2.37'))
      .send({ server: { name: 's', flavorRef: '1', ...bdm(blankRoot()) } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toContain("'networks' is a required property");
  });

  it('volumes over the gigabytes quota → 403, as Nova answers OverQuota on create (servers.py:799)', async () => {
    const project = '7e57ab1e0000400080000000000000aa';
    const headers = { 'X-Auth-Token': `${TOKEN.split(':')[0]}:${project}`, 'OpenStack-API-Version': 'compute 2.89' };
    await nova
      .api()
      .put(`/v3/${project}/os-quota-sets/${project}`)
      .set(headers)
      .send({ quota_set: { gigabytes: 2 } })
      .expect(200);
    const res = await nova
      .api()
      .post(`/v2.1/${project}/servers`)
      .set(headers)
      .send({ server: { name: 'big', flavorRef: '1', networks: 'none', ...bdm(blankRoot(3)) } });
    expect(res.status).toBe(403);
    expect(res.body.forbidden.message).toMatch(
      /^VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota/,
    );
    expect(await cairn.db('servers').where({ project_id: project })).toEqual([]);
  });
});

describe('accepted mappings', () => {
  it("a bootable existing volume boots; a snapshot without a size takes the snapshot's (compute/api.py:1988)", async () => {
    const root = await nova.volume({ size: 2, bootable: true });
    const origin = await nova.volume({ size: 1 });
    const snap = await nova
      .api()
      .post(v3('/snapshots'))
      .set(VOLUME_HEADERS)
      .send({ snapshot: { volume_id: origin.id } });
    expect(snap.status).toBe(202);
    // Snapshots copy the whole volume: generous on a loaded machine.
    await waitFor(
      async () =>
        (
          await nova
            .api()
            .get(v3(`/snapshots/${snap.body.snapshot.id}`))
            .set(VOLUME_HEADERS)
        ).body.snapshot.status === 'available',
      60_000,
      'the snapshot',
    );
    const s = await nova.boot(
      bdm(
        { source_type: 'volume', uuid: root.id, destination_type: 'volume', boot_index: '0' },
        { source_type: 'snapshot', uuid: snap.body.snapshot.id, destination_type: 'volume', boot_index: 1 },
      ),
      '2.89',
      60_000,
    );
    const attached = s['os-extended-volumes:volumes_attached'];
    expect(attached).toHaveLength(2);
    expect(attached[0]).toEqual({ id: root.id, delete_on_termination: false });
    expect(await nova.cinderVolume(attached[1].id)).toMatchObject({ size: 1, status: 'in-use', snapshot_id: snap.body.snapshot.id });
    expect((await nova.cinderVolume(root.id)).status).toBe('in-use');
  }, 180_000);

  it('imageRef alone gives an image-backed root: ACTIVE with no volumes', async () => {
    const image = await anImage(cairn.url);
    const s = await nova.boot({ imageRef: image });
    expect(s.image).toEqual({ id: image, links: [{ rel: 'bookmark', href: `${cairn.url}/${PROJECT}/images/${image}` }] });
    expect(s['os-extended-volumes:volumes_attached']).toEqual([]);
  });
});
