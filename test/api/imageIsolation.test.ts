/**
 * Project isolation on the image API (api-spec/image.yaml, the Glance v2
 * subset cairn serves): every operation is tried with project B's tokens
 * on project A's private image. A route naming it must answer 404 (Glance
 * hides what the caller may not see) or 403 (a reader's write); a list
 * must not show it; it must be unchanged afterwards.
 *
 * A new route whose path parameter or body this file has no fixture for
 * fails here, so that it is tried too.
 */
import { loadImageApi } from '../../src/http/glance/app';
import { FakeKeystone } from '../helpers/fakeKeystone';
import { startTestCairn, type TestCairn } from '../helpers/cairn';
import { glance, imageBytes, md5 } from '../helpers/images';

const PA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01';
const PB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb02';

let ks: FakeKeystone;
let cairn: TestCairn;
const tok = { aMember: '', bMember: '', bReader: '' };
const data = imageBytes(64 * 1024);
let image: { id: string; checksum: string };

interface Op {
  method: string;
  path: string;
  operationId: string;
  hasBody: boolean;
}

function operations(doc: any): Op[] {
  return Object.entries<any>(doc.paths).flatMap(([p, item]) =>
    ['get', 'put', 'post', 'delete', 'patch']
      .filter((m) => item[m])
      .map((method) => ({ method, path: p, operationId: item[method].operationId, hasBody: Boolean(item[method].requestBody) })),
  );
}

// schema_name: Glance's schema documents are no one's (anyone may read them).
const PARAMS: Record<string, () => string> = { image_id: () => image.id, schema_name: () => 'image' };
const BODIES: Record<string, () => { body: unknown; type?: string }> = {
  createImage: () => ({ body: { name: 'b-image', disk_format: 'raw', container_format: 'bare', id: image.id } }),
  uploadImage: () => ({ body: Buffer.from('stolen'), type: 'application/octet-stream' }),
};

const pathOf = (op: Op) =>
  op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const fixture = PARAMS[name];
    if (!fixture) throw new Error(`no fixture for path parameter {${name}} of ${op.operationId}: add one to PARAMS`);
    return encodeURIComponent(fixture());
  });

function call(op: Op, token: string) {
  let body: unknown;
  const headers: Record<string, string> = {};
  if (op.hasBody) {
    const fixture = BODIES[op.operationId];
    if (!fixture) throw new Error(`no body fixture for ${op.operationId}: add one to BODIES`);
    const b = fixture();
    body = b.body;
    if (b.type) headers['Content-Type'] = b.type;
  }
  return glance(cairn.url, token).call(op.method.toUpperCase(), pathOf(op), body, headers);
}

beforeAll(async () => {
  ks = await FakeKeystone.start();
  cairn = await startTestCairn(ks.env());
  tok.aMember = ks.issue({ userId: 'ua', projectId: PA, roles: ['member', 'reader'] });
  tok.bMember = ks.issue({ userId: 'ub', projectId: PB, roles: ['member', 'reader'] });
  tok.bReader = ks.issue({ userId: 'ub-r', projectId: PB, roles: ['reader'] });
  image = await glance(cairn.url, tok.aMember).image({ name: 'a-private', visibility: 'private', a_prop: 'secret' }, data);
});
afterAll(async () => {
  await cairn?.stop();
  await ks?.stop();
});

const OPS = operations(loadImageApi());

describe("project B on project A's private image, through the image API", () => {
  it('the document has the routes to try', () => {
    expect(OPS.map((o) => o.operationId)).toEqual(
      expect.arrayContaining(['listImages', 'showImage', 'downloadImage', 'uploadImage', 'deleteImage']),
    );
  });

  for (const op of OPS) {
    const named = /\{image_id\}/.test(op.path);
    it(`${op.method.toUpperCase()} /v2${op.path} (${op.operationId}) as B's member and reader → ${named ? '404/403' : "nothing of A's"}`, async () => {
      for (const token of [tok.bMember, tok.bReader]) {
        const res = await call(op, token);
        if (res.status < 400) expect(res.raw.toString('latin1')).not.toContain(image.id);
        if (res.status < 400) expect(md5(res.raw)).not.toBe(image.checksum);
        if (named) {
          expect([403, 404]).toContain(res.status);
        } else if (op.operationId === 'createImage') {
          // Taking A's image id for B's own image: Glance answers 409, never a second image with that id.
          expect(token === tok.bReader ? 403 : 409).toBe(res.status);
        } else {
          expect(res.status).toBeLessThan(500);
        }
      }
    });
  }

  it("the list B sees never names A's image, even asked for private or by name", async () => {
    for (const q of ['', '?visibility=private', '?name=a-private', '?owner=' + PA, '?visibility=all']) {
      const res = await glance(cairn.url, tok.bMember).get(`/images${q}`);
      expect({ q, status: res.status < 500, leaked: res.raw.toString().includes(image.id) }).toEqual({ q, status: true, leaked: false });
    }
  });

  it("afterwards A's image is as it was: same fields, same bytes", async () => {
    const a = glance(cairn.url, tok.aMember);
    const shown = await a.get(`/images/${image.id}`);
    expect(shown.body).toMatchObject({
      id: image.id,
      name: 'a-private',
      status: 'active',
      visibility: 'private',
      owner: PA,
      a_prop: 'secret',
      checksum: md5(data),
    });
    const file = await a.get(`/images/${image.id}/file`);
    expect(md5(file.raw)).toBe(md5(data));
  });
});
