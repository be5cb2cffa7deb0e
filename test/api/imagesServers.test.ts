/**
 * Images in `POST /servers` (issue #6): imageRef must name an image
 * (Nova's `_get_image`, `_check_requested_image`), and a volume made from
 * an image by a mapping is filled from it as a Cinder create is.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { liftQuotas, startTestCairn, type TestCairn } from '../helpers/cairn';
import { computeApi } from '../helpers/compute';
import { anImage, glance, imageBytes } from '../helpers/images';
import { volumeFile } from '../helpers/snapshots';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
beforeAll(async () => {
  cairn = await startTestCairn();
  await liftQuotas(cairn.url);
  nova = computeApi(cairn.url);
});
afterAll(async () => {
  await cairn.stop();
});

const refusal = async (server: Record<string, unknown>) => {
  const res = await nova.create(server);
  return { status: res.status, message: res.body?.badRequest?.message };
};

describe('imageRef', () => {
  it('an unknown image → 400 "Image X could not be found."; nothing is kept', async () => {
    const id = randomUUID();
    const before = await cairn.db('servers').count({ n: '*' });
    expect(await refusal({ imageRef: id })).toEqual({ status: 400, message: `Image ${id} could not be found.` });
    expect(await cairn.db('servers').count({ n: '*' })).toEqual(before);
  });

  it("an image that is not active, or too big for the flavor's disk or memory → Nova's 400s", async () => {
    const queued = (await glance(cairn.url).call('POST', '/images', { name: 'q', disk_format: 'raw', container_format: 'bare' })).body.id;
    expect(await refusal({ imageRef: queued })).toEqual({ status: 400, message: `Image ${queued} is not active.` });
    const minDisk = await anImage(cairn.url, { min_disk: 2 });
    expect(await refusal({ imageRef: minDisk, flavorRef: '1' })).toEqual({
      status: 400,
      message: `Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${1024 ** 3} bytes, minimum size is ${2 * 1024 ** 3} bytes.`,
    });
    const minRam = await anImage(cairn.url, { min_ram: 1024 });
    expect(await refusal({ imageRef: minRam, flavorRef: '1' })).toEqual({
      status: 400,
      message: "Flavor's memory is too small for requested image.",
    });
    // m1.small has the room.
    expect((await nova.create({ imageRef: minDisk, flavorRef: '2' })).status).toBe(202);
  });
});

describe('block_device_mapping_v2 source_type=image, destination_type=volume', () => {
  it("boots from a volume made from the image: bootable, with volume_image_metadata and the image's bytes", async () => {
    const data = imageBytes(300_000);
    const image = await glance(cairn.url).image({ name: 'bfv-img', os_distro: 'cirros' }, data);
    const s = await nova.boot(
      {
        imageRef: '',
        block_device_mapping_v2: [
          { source_type: 'image', uuid: image.id, destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true },
        ],
      },
      '2.89',
      60_000,
    );
    const attached = s['os-extended-volumes:volumes_attached'];
    expect(attached).toHaveLength(1);
    const vol = await nova.cinderVolume(attached[0].id);
    expect(vol).toMatchObject({ status: 'in-use', bootable: 'true', size: 1 });
    expect(vol.volume_image_metadata).toMatchObject({ image_id: image.id, image_name: 'bfv-img', os_distro: 'cirros' });
    const file = await volumeFile(cairn.db, vol.id);
    const head = Buffer.alloc(data.length);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    expect(head.equals(data)).toBe(true);
  });

  it("a root volume smaller than the image's min_disk → Nova's VolumeSmallerThanMinDisk 400", async () => {
    const image = await anImage(cairn.url, { min_disk: 2 });
    expect(
      await refusal({
        imageRef: '',
        block_device_mapping_v2: [{ source_type: 'image', uuid: image, destination_type: 'volume', volume_size: 1, boot_index: 0 }],
      }),
    ).toEqual({
      status: 400,
      message: `Volume is smaller than the minimum size specified in image metadata. Volume size is ${1024 ** 3} bytes, minimum size is ${2 * 1024 ** 3} bytes.`,
    });
  });

  it('a data volume from another image than imageRef: the image must exist; the volume is filled from it', async () => {
    const root = await anImage(cairn.url);
    const missing = randomUUID();
    expect(
      await refusal({
        imageRef: root,
        block_device_mapping_v2: [
          { source_type: 'image', uuid: root, destination_type: 'local', boot_index: 0 },
          { source_type: 'image', uuid: missing, destination_type: 'volume', volume_size: 1, boot_index: 1 },
        ],
      }),
    ).toEqual({ status: 400, message: `Block Device Mapping is Invalid: failed to get image ${missing}.` });
    const dataImage = await anImage(cairn.url, { name: 'data' });
    const s = await nova.boot(
      {
        imageRef: root,
        block_device_mapping_v2: [
          { source_type: 'image', uuid: root, destination_type: 'local', boot_index: 0 },
          { source_type: 'image', uuid: dataImage, destination_type: 'volume', volume_size: 1, boot_index: 1 },
        ],
      },
      '2.89',
      60_000,
    );
    const vol = await nova.cinderVolume(s['os-extended-volumes:volumes_attached'][0].id);
    expect(vol.volume_image_metadata.image_id).toBe(dataImage);
  });
});
