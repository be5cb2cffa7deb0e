/**
 * Images driven by the real Debian clients against the built all-in-one
 * and cairn's own image store: `cairn-manage image import` (before the
 * start: PGlite is single-process), `openstack image list/create/show`
 * (openstacksdk through the image-capable cloud), `openstack volume create
 * --image NAME`, `cinder create --image`, `cinder upload-to-image`. The
 * tests look at the volume and image files on disk; they build on each other.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProperties, poll, PollAbort, runManage, startCairn, type CompatCairn } from './cli';

const GiB = 1024 ** 3;
let cairn: CompatCairn;
let work: string;
/** The imported image's data: random, 3 MB (not a whole GiB, so the volume's tail stays zeros). */
const data = randomBytes(3_000_000);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-compat-images-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-compat-'));
  fs.writeFileSync(path.join(work, 'cirros.raw'), data);
  // No `db migrate` first: every cairn-manage command brings a fresh data directory's schema up to date.
  await runManage(
    dataDir,
    'image',
    'import',
    'cirros-compat',
    path.join(work, 'cirros.raw'),
    '--property',
    'os_distro=cirros',
    '--min-disk',
    '1',
  );
  cairn = await startCairn({ dataDir });
}, 120_000);
afterAll(async () => {
  await cairn?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}, 30_000);

const json = async (p: Promise<string>) => JSON.parse(await p);
const volumeFile = (id: string) => path.join(cairn.dataDir, 'volumes', 'file', `volume-${id}`);

function available(id: string): Promise<Record<string, string>> {
  return poll(
    `volume ${id} available`,
    async () => {
      const p = parseProperties(await cairn.cinder('show', id));
      if (p.status?.startsWith('error')) throw new PollAbort(`${id} went to ${p.status}`);
      return p.status === 'available' && p;
    },
    { timeoutMs: 60_000 },
  );
}

/** The file holds the image's bytes, then zeros up to `size`. */
function holdsImage(file: string, size: number): boolean {
  if (fs.statSync(file).size !== size) return false;
  const head = Buffer.alloc(data.length + 65536);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return head.subarray(0, data.length).equals(data) && head.subarray(data.length).every((b) => b === 0);
}

async function md5File(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

let imageId = '';
let volumeId = '';

it("openstack image list / show: the image cairn-manage imported, with Glance's fields", async () => {
  const list = await json(cairn.openstackImage('image', 'list', '-f', 'json'));
  const row = list.find((i: any) => i.Name === 'cirros-compat');
  expect(row).toMatchObject({ Status: 'active' });
  imageId = row.ID;
  const shown = await json(cairn.openstackImage('image', 'show', 'cirros-compat', '-f', 'json'));
  expect(shown).toMatchObject({
    id: imageId,
    size: data.length,
    disk_format: 'raw',
    container_format: 'bare',
    visibility: 'public',
    min_disk: 1,
    checksum: createHash('md5').update(data).digest('hex'),
  });
  expect(shown.properties).toMatchObject({ os_distro: 'cirros' });
});

it('openstack volume create --image NAME: the name resolves through /v2/images; the volume holds the image', async () => {
  const v = await json(cairn.openstackImage('volume', 'create', '--image', 'cirros-compat', '--size', '1', 'osc-from-image', '-f', 'json'));
  expect(v.bootable).toBe('true');
  const shown = await available(v.id);
  expect(shown.bootable).toBe('true');
  expect(holdsImage(volumeFile(v.id), GiB)).toBe(true);
  volumeId = v.id;
  const osc = await json(cairn.openstackImage('volume', 'show', v.id, '-f', 'json'));
  expect(osc.volume_image_metadata).toMatchObject({
    image_id: imageId,
    image_name: 'cirros-compat',
    os_distro: 'cirros',
    disk_format: 'raw',
  });
});

it("cinder create --image: by id, bootable with volume_image_metadata; an unknown image is Cinder's 400", async () => {
  const created = parseProperties(await cairn.cinder('create', '--image', imageId, '--name', 'cinder-from-image', '2'));
  const shown = await available(created.id!);
  expect(shown.bootable).toBe('true');
  // cinderclient prints a dict field as `key : value` lines.
  expect(shown.volume_image_metadata).toMatch(new RegExp(`image_id\\s*:\\s*${imageId}`));
  expect(holdsImage(volumeFile(created.id!), 2 * GiB)).toBe(true);
  await expect(cairn.cinder('create', '--image', 'no-such-image', '1')).rejects.toThrow(
    /Invalid image identifier or unable to access requested image\. \(HTTP 400\)/,
  );
});

it("cinder upload-to-image: the volume goes uploading → available; the new image is active with the volume's bytes", async () => {
  const out = parseProperties(await cairn.cinder('upload-to-image', volumeId, 'uploaded-compat'));
  expect(out).toMatchObject({ status: 'uploading', image_name: 'uploaded-compat', disk_format: 'raw', container_format: 'bare' });
  await available(volumeId);
  const image = await poll(
    'uploaded image active',
    async () => {
      const i = await json(cairn.openstackImage('image', 'show', out.image_id!, '-f', 'json'));
      return i.status === 'active' && i;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  expect(image.size).toBe(GiB);
  // The image's data file and the volume's file are the same bytes.
  const stored = path.join(cairn.dataDir, 'images', out.image_id!);
  const [imageMd5, volumeMd5] = [await md5File(stored), await md5File(volumeFile(volumeId))];
  expect(imageMd5).toBe(volumeMd5);
  expect(image.checksum).toBe(volumeMd5);
}, 240_000);

it('openstack image create --file: queued → active through POST /v2/images and PUT …/file; then usable by volume create', async () => {
  const file = path.join(work, 'small.raw');
  const small = randomBytes(200_000);
  fs.writeFileSync(file, small);
  await cairn.openstackImage('image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'osc-made');
  const shown = await json(cairn.openstackImage('image', 'show', 'osc-made', '-f', 'json'));
  expect(shown).toMatchObject({
    status: 'active',
    size: small.length,
    checksum: createHash('md5').update(small).digest('hex'),
    owner: cairn.projectId,
  });
  const v = await json(cairn.openstackImage('volume', 'create', '--image', 'osc-made', '--size', '1', 'from-osc-made', '-f', 'json'));
  await available(v.id);
  await cairn.openstackImage('image', 'delete', 'osc-made');
  const names = (await json(cairn.openstackImage('image', 'list', '-f', 'json'))).map((i: any) => i.Name);
  expect(names).not.toContain('osc-made');
});
