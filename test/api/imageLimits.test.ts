/**
 * Glance's image limits on cairn's own store (CAIRN_IMAGE_SIZE_CAP,
 * CAIRN_USER_STORAGE_QUOTA, CAIRN_IMAGE_PROPERTY_QUOTA, CAIRN_IMAGE_TAG_QUOTA):
 * 413 with Glance's texts; data refused by a limit leaves the image queued
 * and no file behind; the storage quota is per owner.
 */
import fs from 'node:fs';
import http from 'node:http';
import { loadConfig } from '../../src/config';
import { PROJECT, USER, startTestCairn, type TestCairn } from '../helpers/cairn';
import { glance, imageBytes } from '../helpers/images';

const CAP = 1_000_000;
const QUOTA = 2 * 1024 * 1024;

describe('image limits', () => {
  let cairn: TestCairn;
  let g: ReturnType<typeof glance>;
  beforeAll(async () => {
    cairn = await startTestCairn({
      CAIRN_IMAGE_SIZE_CAP: String(CAP),
      CAIRN_USER_STORAGE_QUOTA: '2MB',
      CAIRN_IMAGE_PROPERTY_QUOTA: '3',
      CAIRN_IMAGE_TAG_QUOTA: '2',
    });
    g = glance(cairn.url);
  });
  afterAll(async () => {
    await cairn.stop();
  });

  const put = (id: string, data: Buffer, client = g) =>
    client.call('PUT', `/images/${id}/file`, data, { 'Content-Type': 'application/octet-stream' });
  const created = async (client = g) =>
    (await client.call('POST', '/images', { disk_format: 'raw', container_format: 'bare' })).body.id as string;
  const files = () => (fs.existsSync(cairn.config.imageDir) ? fs.readdirSync(cairn.config.imageDir) : []);

  it('tags beyond image_tag_quota and properties beyond image_property_quota: 413, nothing created', async () => {
    const before = (await g.get('/images')).body.images.length;
    const tags = await g.call('POST', '/images', { name: 't', tags: ['a', 'b', 'c'] });
    expect(tags.status).toBe(413);
    expect(tags.body).toEqual({
      message: 'The limit has been exceeded on the number of allowed image tags. Attempted: 3, Maximum: 2<br /><br />\n\n\n',
      code: '413 Request Entity Too Large',
      title: 'Request Entity Too Large',
    });
    const props = await g.call('POST', '/images', { name: 'p', a: '1', b: '2', c: '3', d: '4' });
    expect(props.status).toBe(413);
    expect(props.body.message).toMatch(/^The limit has been exceeded on the number of allowed image properties\. Attempted: 4, Maximum: 3/);
    // Plain text to a client that does not ask for JSON, as webob renders it.
    const text = await fetch(`${cairn.url}/v2/images`, {
      method: 'POST',
      headers: { 'X-Auth-Token': `${USER}:${PROJECT}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tags: ['x', 'y', 'z'] }),
    });
    expect(text.status).toBe(413);
    expect(await text.text()).toMatch(/^413 Request Entity Too Large\n\nThe limit has been exceeded on the number of allowed image tags/);
    expect((await g.get('/images')).body.images.length).toBe(before);
    // At the limits (a repeated tag counts once, as Glance's tag set does): created.
    const ok = await g.call('POST', '/images', { name: 'ok', tags: ['a', 'b', 'a'], a: '1', b: '2', c: '3' });
    expect(ok.status).toBe(201);
  });

  it('data beyond image_size_cap: 413 (declared, or counted while streamed), the image queued again, no file', async () => {
    const id = await created();
    const res = await put(id, imageBytes(CAP + 1));
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/^The incoming image is too large: The provided image is too large\./);
    expect((await g.get(`/images/${id}`)).body).toMatchObject({ status: 'queued', size: null, checksum: null });

    // Chunked, without a Content-Length: refused once the bytes read pass the cap.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(cairn.url);
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: `/v2/images/${id}/file`,
          method: 'PUT',
          headers: { 'X-Auth-Token': `${USER}:${PROJECT}`, 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode!);
        },
      );
      req.on('error', (e) => (req.writableEnded ? undefined : reject(e)));
      const chunk = imageBytes(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < CAP * 2) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect((await g.get(`/images/${id}`)).body.status).toBe('queued');
    expect(files().filter((f) => f.startsWith(id))).toEqual([]);
    // At the cap: accepted.
    expect((await put(id, imageBytes(CAP))).status).toBe(204);
    expect((await g.get(`/images/${id}`)).body).toMatchObject({ status: 'active', size: CAP });
  });

  it("user_storage_quota: a project's images hold at most the quota; another project is apart; a delete frees room", async () => {
    // A project of its own (the other tests' images count against PROJECT's quota).
    const project = 'aa'.repeat(16);
    const mine = glance(cairn.url, `${USER}:${project}`);
    const a = await created(mine);
    const b = await created(mine);
    const c = await created(mine);
    expect((await put(a, imageBytes(900_000), mine)).status).toBe(204);
    expect((await put(b, imageBytes(900_000), mine)).status).toBe(204);
    const over = await put(c, imageBytes(900_000), mine);
    expect(over.status).toBe(413);
    expect(over.body.message).toMatch(
      new RegExp(
        `^Image exceeds the storage quota: The size of the data 900000 will exceed the limit\\. ${QUOTA - 1_800_000} bytes remaining\\.`,
      ),
    );
    expect((await mine.get(`/images/${c}`)).body.status).toBe('queued');
    // Another project's quota is its own.
    const other = glance(cairn.url, `${USER}:${'bb'.repeat(16)}`);
    expect((await put(await created(other), imageBytes(900_000), other)).status).toBe(204);
    // Room again once an image goes.
    expect((await mine.call('DELETE', `/images/${a}`)).status).toBe(204);
    expect((await put(c, imageBytes(900_000), mine)).status).toBe(204);
  });

  it("configuration: Glance's defaults, and user_storage_quota's units", () => {
    expect(loadConfig({}).imageLimits).toEqual({ sizeCap: 1024 ** 4, userStorageQuota: 0, propertyQuota: 128, tagQuota: 128 });
    expect(loadConfig({ CAIRN_USER_STORAGE_QUOTA: '5GB', CAIRN_IMAGE_TAG_QUOTA: '-1' }).imageLimits).toMatchObject({
      userStorageQuota: 5 * 1024 ** 3,
      tagQuota: -1,
    });
    expect(() => loadConfig({ CAIRN_USER_STORAGE_QUOTA: '5 GiB' })).toThrow(/CAIRN_USER_STORAGE_QUOTA/);
  });
});
