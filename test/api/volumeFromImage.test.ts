/**
 * Volumes from images (`imageRef`/`image_id`) and volumes into images
 * (`os-volume_upload_image`), against cairn's own image store and against
 * an external Glance (a second cairn serving the Glance subset).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { liftQuotas, PROJECT, startTestCairn, TOKEN, waitFor, type TestCairn } from '../helpers/cairn';
import { glance, imageBytes, md5 } from '../helpers/images';
import { availableVolume, client, untilStatus, volumeFile, type Client } from '../helpers/snapshots';

const GiB = 1024 ** 3;

/** The first `data.length` bytes of the file equal `data`, and the file is `size` bytes long. */
function startsWith(file: string, data: Buffer, size: number): boolean {
  if (fs.statSync(file).size !== size) return false;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(data.length + 4096);
    fs.readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, data.length).equals(data) && head.subarray(data.length).every((b) => b === 0);
  } finally {
    fs.closeSync(fd);
  }
}

async function fileMd5(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe("volumes from images: cairn's own store", () => {
  let cairn: TestCairn;
  let c: Client;
  let g: ReturnType<typeof glance>;
  const data = imageBytes(1_500_000);
  let image: any;
  beforeAll(async () => {
    cairn = await startTestCairn({ CAIRN_ENABLE_FORCE_UPLOAD: 'true' });
    await liftQuotas(cairn.url);
    c = client(cairn.url);
    g = glance(cairn.url);
    image = await g.image({ name: 'raw-img', os_distro: 'cirros', hw_disk_bus: 'virtio' }, data);
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it("imageRef → bootable volume with volume_image_metadata; its data is the image's, zero-filled to the size", async () => {
    const res = await c.post('/volumes', { volume: { size: 1, imageRef: image.id, name: 'from-img' } });
    expect(res.status).toBe(202);
    expect(res.body.volume.bootable).toBe('true');
    // Cinder copies the image's metadata after the create: its 202 has no volume_image_metadata.
    expect(res.body.volume).not.toHaveProperty('volume_image_metadata');
    const v = await untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'available');
    expect(v.bootable).toBe('true');
    // Nor does an update's reply (the extension adds it to show and list only).
    const updated = await c.put(`/volumes/${v.id}`, { volume: { name: 'renamed' } });
    expect(updated.status).toBe(200);
    expect(updated.body.volume).not.toHaveProperty('volume_image_metadata');
    expect(v.volume_image_metadata).toEqual({
      image_id: image.id,
      image_name: 'raw-img',
      checksum: md5(data),
      container_format: 'bare',
      disk_format: 'raw',
      min_disk: '0',
      min_ram: '0',
      size: String(data.length),
      os_distro: 'cirros',
      hw_disk_bus: 'virtio',
    });
    expect(startsWith(await volumeFile(cairn.db, v.id), data, GiB)).toBe(true);
  });

  it('image_id and an image name work too; without a size the image decides (max of its GiB and min_disk)', async () => {
    const byName = await c.post('/volumes', { volume: { size: 1, image_id: 'raw-img' } });
    expect(byName.status).toBe(202);
    expect((await c.get(`/volumes/${byName.body.volume.id}`)).body.volume.volume_image_metadata.image_id).toBe(image.id);
    const big = await g.image({ name: 'min2', min_disk: 2 }, imageBytes(1000));
    const sized = await c.post('/volumes', { volume: { imageRef: big.id } });
    expect(sized.status).toBe(202);
    expect(sized.body.volume.size).toBe(2);
    const v = await untilStatus(c, `/volumes/${sized.body.volume.id}`, 'volume', 'available');
    expect(fs.statSync(await volumeFile(cairn.db, v.id)).size).toBe(2 * GiB);
  });

  it("Cinder's 400s: unknown image, a size below min_disk, an image that is not active; 409 for an ambiguous name", async () => {
    const unknown = await c.post('/volumes', { volume: { size: 1, imageRef: '11111111-2222-4333-8444-555555555555' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.badRequest.message).toBe('Invalid image identifier or unable to access requested image.');
    const min3 = await g.image({ name: 'min3', min_disk: 3 }, imageBytes(1000));
    const small = await c.post('/volumes', { volume: { size: 2, imageRef: min3.id } });
    expect(small.status).toBe(400);
    expect(small.body.badRequest.message).toBe(
      'Invalid input received: Volume size 2GB cannot be smaller than the image minDisk size 3GB.',
    );
    const queued = await g.call('POST', '/images', { name: 'queued', disk_format: 'raw', container_format: 'bare' });
    const notActive = await c.post('/volumes', { volume: { size: 1, imageRef: queued.body.id } });
    expect(notActive.status).toBe(400);
    expect(notActive.body.badRequest.message).toBe(`Invalid input received: Image ${queued.body.id} is not active.`);
    await g.image({ name: 'twin' }, imageBytes(10));
    await g.image({ name: 'twin' }, imageBytes(10));
    const twins = await c.post('/volumes', { volume: { size: 1, imageRef: 'twin' } });
    expect(twins.status).toBe(409);
    expect(twins.body.conflictingRequest.message).toBe("Multiple matches found for 'twin', use an ID to be more specific.");
    const both = await c.post('/volumes', { volume: { size: 1, imageRef: image.id, snapshot_id: '11111111-2222-4333-8444-555555555555' } });
    expect(both.status).toBe(400);
  });

  it('an image larger than the asked size → 400', async () => {
    // A sparse 1 GiB + 1 byte image: the file is written directly into the store (the API would stream 1 GiB).
    const created = await g.call('POST', '/images', { name: 'big', disk_format: 'raw', container_format: 'bare' });
    await cairn
      .db('images')
      .where({ id: created.body.id })
      .update({ status: 'active', size: GiB + 1, checksum: 'x' });
    const res = await c.post('/volumes', { volume: { size: 1, imageRef: created.body.id } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe('Invalid input received: Size of specified image 2GB is larger than volume size 1GB.');
  });

  it('a qcow2 image: the volume ends in error with a user message saying why', async () => {
    const qcow = await g.image({ name: 'qcow', disk_format: 'qcow2' }, imageBytes(1000));
    const res = await c.post('/volumes', { volume: { size: 1, imageRef: qcow.id } });
    expect(res.status).toBe(202);
    await waitFor(async () => (await c.get(`/volumes/${res.body.volume.id}`)).body.volume.status === 'error', 20_000, 'volume error');
    const msgs = (await c.at('3.3').get('/messages')).body.messages.filter((m: any) => m.resource_uuid === res.body.volume.id);
    expect(msgs).toHaveLength(1);
    expect(msgs[0].user_message).toBe('copy image to volume:The image format cannot be copied into a volume; only raw images can.');
  });

  it("os-volume_upload_image: 202 with Cinder's body, volume uploading → available, image active with the volume's bytes", async () => {
    const src = await c.post('/volumes', { volume: { size: 1, imageRef: image.id } });
    const v = await untilStatus(c, `/volumes/${src.body.volume.id}`, 'volume', 'available');
    const res = await c.post(`/volumes/${v.id}/action`, {
      'os-volume_upload_image': { image_name: 'uploaded', disk_format: 'raw', container_format: 'bare', visibility: 'private' },
    });
    expect(res.status).toBe(202);
    const body = res.body['os-volume_upload_image'];
    expect(Object.keys(body).sort()).toEqual(
      [
        'container_format',
        'disk_format',
        'display_description',
        'id',
        'image_id',
        'image_name',
        'protected',
        'size',
        'status',
        'updated_at',
        'visibility',
        'volume_type',
      ].sort(),
    );
    expect(body).toMatchObject({
      id: v.id,
      status: 'uploading',
      size: 1,
      image_name: 'uploaded',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'private',
      protected: false,
    });
    expect(body.volume_type.name).toBe('__DEFAULT__');
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'available');
    const uploaded = await waitFor(
      async () => {
        const i = (await g.get(`/images/${body.image_id}`)).body;
        return i.status === 'active' && i;
      },
      150_000,
      'image active',
    );
    expect(uploaded.size).toBe(GiB);
    // The image's properties carry the volume's non-core image metadata (Cinder's glance_core_properties rule).
    expect(uploaded).toMatchObject({ os_distro: 'cirros', hw_disk_bus: 'virtio', visibility: 'private' });
    expect(uploaded.checksum).toBe(await fileMd5(await volumeFile(cairn.db, v.id)));
  }, 180_000);

  it('upload of an in-use volume: 400 without force; with force (enable_force_upload) it uploads and the volume stays in-use', async () => {
    const v = await availableVolume(c);
    const att = await c.post('/attachments', {
      attachment: { volume_uuid: v.id, instance_uuid: '11111111-2222-4333-8444-555555555555', connector: { host: 'h' } },
    });
    expect(att.status).toBe(200);
    await c.post(`/attachments/${att.body.attachment.id}/action`, { 'os-complete': {} });
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'in-use');
    const res = await c.post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(`Invalid volume: Volume ${v.id} status must be available`);
    // No image was left behind.
    expect((await g.get('/images?name=x')).body.images).toEqual([]);
    const forced = await c.post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'forced', force: 'true' } });
    expect(forced.status).toBe(202);
    const id = forced.body['os-volume_upload_image'].image_id;
    await waitFor(async () => (await g.get(`/images/${id}`)).body.status === 'active', 150_000, 'forced upload');
    expect((await c.get(`/volumes/${v.id}`)).body.volume.status).toBe('in-use');
  }, 180_000);

  it('a failed upload: the volume goes back to available, the image is deleted, a user message says why', async () => {
    const v = await availableVolume(c);
    fs.rmSync(await volumeFile(cairn.db, v.id)); // the backend lost the data
    const res = await c.post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'doomed' } });
    expect(res.status).toBe(202);
    const id = res.body['os-volume_upload_image'].image_id;
    await waitFor(async () => (await g.get(`/images/${id}`)).status === 404, 20_000, 'image deleted');
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'available');
    const msgs = (await c.at('3.3').get('/messages')).body.messages.filter((m: any) => m.resource_uuid === v.id);
    expect(msgs.map((m: any) => [m.event_id, m.user_message])).toEqual([
      ['VOLUME_VOLUME_003_102', 'copy volume to image:The data to copy is missing from the storage backend.'],
    ]);
  });

  it('upload: qcow2 refused (cairn writes raw only); visibility before 3.1 is an unexpected property', async () => {
    const v = await availableVolume(c);
    const qcow = await c.post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'q', disk_format: 'qcow2' } });
    expect(qcow.status).toBe(400);
    const old = await c.at('3.0').post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'q', visibility: 'private' } });
    expect(old.status).toBe(400);
    expect(old.body.badRequest.message).toMatch(/Additional properties are not allowed \('visibility' was unexpected\)/);
  });
});

describe('volumes from images: an external Glance (CAIRN_GLANCE_URL)', () => {
  let glanceSide: TestCairn;
  let cairn: TestCairn;
  let c: Client;
  beforeAll(async () => {
    glanceSide = await startTestCairn();
    cairn = await startTestCairn({ CAIRN_GLANCE_URL: glanceSide.url });
    await liftQuotas(cairn.url);
    c = client(cairn.url);
  });
  afterAll(async () => {
    await cairn.stop();
    await glanceSide.stop();
  });

  it('serves no /v2/images itself; reads the image from the other endpoint and copies its bytes', async () => {
    expect((await fetch(`${cairn.url}/v2/images`, { headers: { 'X-Auth-Token': TOKEN } })).status).toBe(404);
    const data = imageBytes(700_000);
    const image = await glance(glanceSide.url).image({ name: 'remote' }, data);
    const res = await c.post('/volumes', { volume: { size: 1, imageRef: 'remote' } });
    expect(res.status).toBe(202);
    const v = await untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'available');
    expect(v.volume_image_metadata.image_id).toBe(image.id);
    expect(startsWith(await volumeFile(cairn.db, v.id), data, GiB)).toBe(true);
    // The download was a temporary file: nothing stays on the backend.
    expect(fs.readdirSync(`${cairn.dataDir}/volumes/file/.image-downloads`)).toEqual([]);

    const up = await c.post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'back' } });
    expect(up.status).toBe(202);
    const id = up.body['os-volume_upload_image'].image_id;
    const back = await waitFor(
      async () => {
        const i = (await glance(glanceSide.url).get(`/images/${id}`)).body;
        return i?.status === 'active' && i;
      },
      150_000,
      'uploaded',
    );
    expect(back).toMatchObject({ owner: PROJECT, size: GiB, name: 'back' });
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'available');
  }, 180_000);

  it("force is ignored unless enabled (Cinder's enable_force_upload, off by default)", async () => {
    const v = await availableVolume(c);
    const att = await c.post('/attachments', {
      attachment: { volume_uuid: v.id, instance_uuid: '11111111-2222-4333-8444-555555555555', connector: { host: 'h' } },
    });
    await c.post(`/attachments/${att.body.attachment.id}/action`, { 'os-complete': {} });
    await untilStatus(c, `/volumes/${v.id}`, 'volume', 'in-use');
    const res = await c.post(`/volumes/${v.id}/action`, { 'os-volume_upload_image': { image_name: 'x', force: true } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(`Invalid volume: Volume ${v.id} status must be available`);
  });
});
