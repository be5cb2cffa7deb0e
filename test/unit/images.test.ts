import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DriverError } from '../../src/domain/errors';
import type { DbTaskRow } from '../../src/db/tasks';
import { renderGlanceError } from '../../src/services/images/errors';
import { imageFromGlance } from '../../src/services/images/glanceClient';
import type { Image, ImageService } from '../../src/domain/image';
import { glanceImage } from '../../src/http/glance/view';
import { sizeFromImage, volumeImageMetadata } from '../../src/services/volumes/sources';
import { FileDriver } from '../../src/workers/drivers/file';
import { createFromImage } from '../../src/workers/handlers/image';

const GiB = 1024 ** 3;

function image(over: Partial<Image> = {}): Image {
  return {
    id: '5a9270aa-db7c-46d2-a571-74f26f4626fe',
    name: 'img',
    status: 'active',
    visibility: 'public',
    protected: false,
    os_hidden: false,
    owner: 'p',
    disk_format: 'raw',
    container_format: 'bare',
    size: 1000,
    virtual_size: null,
    checksum: 'c',
    os_hash_algo: 'sha512',
    os_hash_value: 'h',
    min_disk: 0,
    min_ram: 0,
    properties: { os_distro: 'cirros' },
    tags: [],
    created_at: new Date(0),
    updated_at: new Date(0),
    ...over,
  };
}

describe('volume from image: sizes and metadata (Cinder check_image_metadata, get_volume_image_metadata)', () => {
  it('default size: the image data in GiB rounded up, at least min_disk, at least 1', () => {
    expect(sizeFromImage(undefined, image({ size: 10 }))).toBe(1);
    expect(sizeFromImage(undefined, image({ size: GiB + 1 }))).toBe(2);
    expect(sizeFromImage(undefined, image({ size: 10, min_disk: 3 }))).toBe(3);
    expect(sizeFromImage(5, image({ size: 10, min_disk: 3 }))).toBe(5);
  });

  it("Cinder's texts for a size that is too small or an image that is not active", () => {
    expect(() => sizeFromImage(1, image({ size: GiB + 1 }))).toThrow(
      'Invalid input received: Size of specified image 2GB is larger than volume size 1GB.',
    );
    expect(() => sizeFromImage(1, image({ min_disk: 2 }))).toThrow(
      'Invalid input received: Volume size 1GB cannot be smaller than the image minDisk size 2GB.',
    );
    expect(() => sizeFromImage(1, image({ status: 'queued' }))).toThrow(
      'Invalid input received: Image 5a9270aa-db7c-46d2-a571-74f26f4626fe is not active.',
    );
  });

  it('volume_image_metadata: properties, then image_id/image_name and the base attributes, all strings', () => {
    expect(volumeImageMetadata(image({ properties: { os_distro: 'cirros', image_id: 'spoofed' } }))).toEqual({
      os_distro: 'cirros',
      image_id: '5a9270aa-db7c-46d2-a571-74f26f4626fe',
      image_name: 'img',
      checksum: 'c',
      container_format: 'bare',
      disk_format: 'raw',
      min_disk: '0',
      min_ram: '0',
      size: '1000',
    });
  });
});

describe('Glance JSON', () => {
  it("an image round-trips through Glance's JSON (extra properties at the top level)", () => {
    const img = image();
    const back = imageFromGlance(JSON.parse(JSON.stringify(glanceImage(img))));
    expect(back).toEqual({ ...img, created_at: new Date(0), updated_at: new Date(0) });
  });

  it("webob's error bodies: JSON for JSON clients, plain text otherwise", () => {
    expect(JSON.parse(renderGlanceError(404, 'No image found with ID x', 'application/json').body)).toEqual({
      message: 'No image found with ID x<br /><br />\n\n\n',
      code: '404 Not Found',
      title: 'Not Found',
    });
    expect(renderGlanceError(409, 'busy', undefined)).toEqual({ type: 'text/plain; charset=UTF-8', body: '409 Conflict\n\nbusy\n\n   ' });
  });
});

describe('createFromImage (the worker)', () => {
  let dir: string;
  let driver: FileDriver;
  let src: string;
  const data = Buffer.from('image data '.repeat(1000));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-img-'));
    driver = new FileDriver(path.join(dir, 'file'));
    src = path.join(dir, 'image.raw');
    fs.writeFileSync(src, data);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const task = (over: Partial<DbTaskRow> = {}) =>
    ({
      id: 't',
      kind: 'volume.create',
      resource_type: 'volume',
      resource_id: '0b4c2d1e-1111-4222-8333-444455556666',
      backend: 'file',
      payload: { size: 1, source: { kind: 'image', id: image().id, size: data.length, checksum: 'c', disk_format: 'raw' } },
      attempts: 1,
      max_attempts: 5,
      project_id: 'p',
      request_id: null,
      ...over,
    }) as unknown as DbTaskRow;

  const service = (img: Image, calls: string[]): ImageService => ({
    kind: 'local',
    get: async () => {
      calls.push('get');
      return img;
    },
    findByName: async () => [img],
    create: async () => img,
    upload: async () => img,
    remove: async () => undefined,
    fetchToFile: async () => {
      calls.push('fetch');
      return {
        path: src,
        release: async () => {
          calls.push('release');
        },
      };
    },
  });

  it("copies the image into a new volume of the task's size; a retry after a lost commit fetches nothing again", async () => {
    const calls: string[] = [];
    const env = { images: service(image({ size: data.length }), calls), scratchDir: path.join(dir, 'file', '.image-downloads') };
    const loc = await createFromImage(task(), driver, env);
    expect(fs.statSync(loc).size).toBe(GiB);
    const head = Buffer.alloc(data.length);
    const fd = fs.openSync(loc, 'r');
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    expect(head.equals(data)).toBe(true);
    expect(calls).toEqual(['get', 'fetch', 'release']);
    // The worker died before committing: the next attempt finds the finished copy.
    const again: string[] = [];
    expect(await createFromImage(task({ attempts: 2 }), driver, { ...env, images: service(image(), again) })).toBe(loc);
    expect(again).toEqual([]);
  });

  it('an image that is not raw, no longer active or larger than the volume fails for good (no retry)', async () => {
    for (const img of [image({ disk_format: 'qcow2' }), image({ status: 'deactivated' }), image({ size: GiB + 1 })]) {
      const err = await createFromImage(task(), driver, { images: service(img, []), scratchDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).transient).toBe(false);
    }
    expect(fs.existsSync(path.join(dir, 'file', 'volume-0b4c2d1e-1111-4222-8333-444455556666'))).toBe(false);
  });
});
