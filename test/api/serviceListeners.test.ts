/**
 * CAIRN_COMPUTE_PORT / CAIRN_IMAGE_PORT: extra listeners where clients look
 * for Nova and Glance, each answering its service's version list at `/`.
 */
import net from 'node:net';
import { PROJECT, startTestCairn, TOKEN, type TestCairn } from '../helpers/cairn';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

let cairn: TestCairn;
let computePort = 0;
let imagePort = 0;
beforeAll(async () => {
  [computePort, imagePort] = [await freePort(), await freePort()];
  cairn = await startTestCairn({ CAIRN_COMPUTE_PORT: String(computePort), CAIRN_IMAGE_PORT: String(imagePort) });
});
afterAll(async () => {
  await cairn.stop();
});

it("the compute port's root lists Nova's versions; its /v2.1 is the compute API", async () => {
  const root = await fetch(`http://127.0.0.1:${computePort}/`);
  expect(root.status).toBe(200);
  const body = (await root.json()) as any;
  expect(body.versions.map((v: any) => [v.id, v.status])).toEqual([
    ['v2.0', 'SUPPORTED'],
    ['v2.1', 'CURRENT'],
  ]);
  expect(body.versions[1].links[0].href).toBe(`http://127.0.0.1:${computePort}/v2.1/`);
  const flavors = await fetch(`http://127.0.0.1:${computePort}/v2.1/${PROJECT}/flavors`, { headers: { 'X-Auth-Token': TOKEN } });
  expect(flavors.status).toBe(200);
});

it("the image port's root lists Glance's versions (300); its /v2/images is the image API", async () => {
  const root = await fetch(`http://127.0.0.1:${imagePort}/`);
  expect(root.status).toBe(300);
  expect(((await root.json()) as any).versions[0]).toMatchObject({ id: 'v2.16', status: 'CURRENT' });
  expect((await fetch(`http://127.0.0.1:${imagePort}/v2/images`, { headers: { 'X-Auth-Token': TOKEN } })).status).toBe(200);
  // The main listener keeps Cinder's document at its root.
  expect(((await (await fetch(`${cairn.url}/`)).json()) as any).versions[0].id).toBe('v3.0');
});
