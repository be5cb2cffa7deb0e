/**
 * The console's server side: the static page under /console, its config, the Keystone
 * login's refusal in noauth, and the admin reads under /v3/{project}/cairn/ (OpenAPI).
 */
import request from 'supertest';
import { PROJECT, TOKEN, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';
import { personas } from '../helpers/personas';

const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };

describe('console and cairn admin reads', () => {
  let cairn: TestCairn;
  beforeAll(async () => {
    cairn = await startTestCairn({ CAIRN_FAULT_DRIVER_DELAY_MS: '1500' });
  });
  afterAll(async () => {
    await cairn.stop();
  });

  it('serves the page, its script and its config without a token', async () => {
    expect((await request(cairn.url).get('/console')).headers.location).toBe('/console/');
    const page = await request(cairn.url).get('/console/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script src="console.js" defer></script>');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const js = await request(cairn.url).get('/console/console.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect((await request(cairn.url).get('/console/config.json')).body).toEqual({ auth: 'noauth' });
    expect((await request(cairn.url).post('/console/login').send({ username: 'a', password: 'b', project: 'c' })).status).toBe(404);
    expect((await request(cairn.url).get('/console/nope.js')).status).toBe(404);
  });

  it('lists tasks in flight with their age, services with heartbeats, and quota use per project', async () => {
    const created = await request(cairn.url)
      .post(`/v3/${PROJECT}/volumes`)
      .set(MV)
      .send({ volume: { size: 1, name: 'console-task' } });
    const id = created.body.volume.id;
    // The driver's delay keeps the create in flight for a moment.
    const tasks = await request(cairn.url).get(`/v3/${PROJECT}/cairn/tasks`).set(MV);
    expect(tasks.status).toBe(200);
    expect(tasks.body.tasks).toEqual([
      expect.objectContaining({
        kind: 'volume.create',
        resource_type: 'volume',
        resource_id: id,
        backend: 'file',
        project_id: PROJECT,
        age_seconds: expect.any(Number),
      }),
    ]);
    await waitFor(
      async () => (await request(cairn.url).get(`/v3/${PROJECT}/cairn/tasks`).set(MV)).body.tasks.length === 0,
      15_000,
      'no task',
    );

    const services = await request(cairn.url).get(`/v3/${PROJECT}/cairn/services`).set(MV);
    expect(services.status).toBe(200);
    expect(services.body.services).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ binary: 'cinder-volume', host: 'testhost@file', state: 'up', heartbeat_age_seconds: expect.any(Number) }),
      ]),
    );
    expect(services.body).toMatchObject({ workers: [], providers: [] });

    const quotas = await request(cairn.url).get(`/v3/${PROJECT}/cairn/quota-usage`).set(MV);
    expect(quotas.status).toBe(200);
    expect(quotas.body.projects).toEqual([
      { project_id: PROJECT, usage: expect.objectContaining({ volumes: { in_use: 1, limit: 10 }, gigabytes: { in_use: 1, limit: 1000 } }) },
    ]);
  });
});

const team = personas(
  {
    member: { project: '3c4d5e6f708192a3b4c5d6e7f8091a2b', roles: ['member', 'reader'] },
    admin: { project: '4d5e6f708192a3b4c5d6e7f8091a2b3c', roles: ['admin', 'member', 'reader'] },
  },
  { mv: '3.70' },
);

describe('cairn admin reads are for admins', () => {
  it("refuses a member with Cinder's 403, answers an admin (Keystone)", async () => {
    for (const path of ['tasks', 'services', 'quota-usage']) {
      const res = await team.call('member', 'get', `/cairn/${path}`);
      expect(res.status).toBe(403);
      expect(res.body.forbidden.message).toMatch(/^Policy doesn't allow cairn:/);
      expect((await team.call('admin', 'get', `/cairn/${path}`)).status).toBe(200);
    }
    expect((await request(team.cairn().url).get('/console/config.json')).body).toEqual({ auth: 'keystone' });
  });
});
