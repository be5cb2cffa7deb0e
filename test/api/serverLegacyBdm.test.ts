/**
 * `POST /servers` with the legacy `block_device_mapping` (Nova's
 * `block_device_mapping_v1.py`, converted by `block_device.from_legacy_mapping`
 * in `compute/api.py:_check_and_transform_bdm`). cinder-tempest-plugin's
 * `VolumesBackupsTest.test_incremental_backup` boots this way: an imageRef and
 * `[{volume_id, delete_on_termination: '0'}]`; cairn used to refuse it with 400.
 */
import { randomUUID } from 'node:crypto';
import { type TestCairn } from '../helpers/cairn';
import { computeApi, novaHeaders, v21, withComputeCairn } from '../helpers/compute';
import { anImage } from '../helpers/images';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
withComputeCairn((c, n) => {
  cairn = c;
  nova = n;
});

const attachmentsOf = async (id: string) =>
  (
    await nova
      .api()
      .get(v21(`/servers/${id}/os-volume_attachments`))
      .set(novaHeaders())
  ).body.volumeAttachments;

describe('legacy block_device_mapping', () => {
  it('imageRef + a volume without device name: the image is the root, the volume attached beside it and kept after delete', async () => {
    const image = await anImage(cairn.url);
    const vol = await nova.volume();
    const s = await nova.boot({ imageRef: image, block_device_mapping: [{ volume_id: vol.id, delete_on_termination: '0' }] }, '2.1');
    expect(s.image).toMatchObject({ id: image });
    expect(s['os-extended-volumes:volumes_attached']).toEqual([{ id: vol.id, delete_on_termination: false }]);
    expect(await attachmentsOf(s.id)).toEqual([expect.objectContaining({ volumeId: vol.id, serverId: s.id, device: '/dev/vdb' })]);
    expect(await nova.cinderVolume(vol.id)).toMatchObject({ status: 'in-use' });
    expect((await nova.remove(s.id)).status).toBe(204);
    await nova.waitGone(s.id);
    await nova.waitVolume(vol.id, 'available');
  });

  it('no imageRef + a bootable volume on vda: boots from that volume', async () => {
    const vol = await nova.volume({ bootable: true });
    const s = await nova.boot({ block_device_mapping: [{ volume_id: vol.id, device_name: 'vda', delete_on_termination: true }] });
    expect(s.image).toBe('');
    expect(await attachmentsOf(s.id)).toEqual([expect.objectContaining({ volumeId: vol.id, device: '/dev/vda' })]);
  });

  it('no imageRef and no mapping on the root device → the boot sequence refusal; nothing is kept', async () => {
    const vol = await nova.volume({ bootable: true });
    const before = await cairn.db('servers').count({ n: '*' });
    const res = await nova.create({ block_device_mapping: [{ volume_id: vol.id }] });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: {
        badRequest: {
          code: 400,
          message:
            'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.',
        },
      },
    });
    expect(await cairn.db('servers').count({ n: '*' })).toEqual(before);
    expect(await nova.cinderVolume(vol.id)).toMatchObject({ status: 'available' });
  });

  it('a mapping naming nothing → "Unrecognized legacy format."; an unknown key → the schema\'s 400', async () => {
    const image = await anImage(cairn.url);
    const res = await nova.create({ imageRef: image, block_device_mapping: [{ device_name: 'vdb' }] });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Block Device Mapping is Invalid: Unrecognized legacy format.' } },
    });
    const bad = await nova.create({ imageRef: image, block_device_mapping: [{ volume_id: randomUUID(), source_type: 'volume' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toContain("Additional properties are not allowed ('source_type' was unexpected)");
  });
});
