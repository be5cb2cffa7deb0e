/**
 * `Idempotency-Key` on creates: retries answer the first response and create
 * nothing; another body with the same key is a 422; keys belong to a project.
 */
import request from 'supertest';
import { liftQuotas, PROJECT, TOKEN, USER, startTestCairn, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21 } from '../helpers/compute';

const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };
const OTHER = '9f8e7d6c5b4a40398271a6b5c4d3e2f1';

describe('Idempotency-Key', () => {
  let cairn: TestCairn;
  beforeAll(async () => {
    cairn = await startTestCairn();
    await liftQuotas(cairn.url);
    await liftQuotas(cairn.url, OTHER);
  });
  afterAll(async () => {
    await cairn.stop();
  });

  const createVolume = (key: string, volume: Record<string, unknown>, headers: Record<string, string> = MV, project = PROJECT) =>
    request(cairn.url)
      .post(`/v3/${project}/volumes`)
      .set({ ...headers, 'Idempotency-Key': key })
      .send({ volume });

  it('20 concurrent retries of one create make one volume and get 20 identical answers', async () => {
    const key = 'retry-20-a1';
    const answers = await Promise.all(Array.from({ length: 20 }, () => createVolume(key, { size: 1, name: 'idem-20' })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const bodies = new Set(answers.map((a) => JSON.stringify(a.body)));
    expect(bodies.size).toBe(1);
    const id = answers[0]!.body.volume.id;
    expect(await cairn.db('volumes').where({ display_name: 'idem-20' }).pluck('id')).toEqual([id]);
    expect(Number((await cairn.db('tasks').where({ resource_id: id, kind: 'volume.create' }).count({ n: '*' }))[0]!.n)).toBe(1);
    // 19 of them were replays, marked as such; the first was not.
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(19);

    // Later (the volume is available by now) the retry still answers the original response.
    const later = await createVolume(key, { size: 1, name: 'idem-20' });
    expect(later.status).toBe(202);
    expect(later.body).toEqual(answers[0]!.body);
    expect(later.body.volume.status).toBe('creating');
  });

  it("the same key with another body is a 422 in Cinder's fault shape, and creates nothing", async () => {
    const key = 'retry-other-body';
    expect((await createVolume(key, { size: 1, name: 'idem-a' })).status).toBe(202);
    const other = await createVolume(key, { size: 2, name: 'idem-a' });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      unprocessableEntity: {
        code: 422,
        message: `Idempotency-Key ${key} was already used in this project for a different request (createVolume); use a new key for a new request.`,
      },
    });
    expect(await cairn.db('volumes').where({ display_name: 'idem-a' }).pluck('size')).toEqual([1]);
    // Another operation with the key is another request too.
    const snap = await request(cairn.url)
      .post(`/v3/${PROJECT}/snapshots`)
      .set({ ...MV, 'Idempotency-Key': key })
      .send({ snapshot: { volume_id: '00000000-0000-0000-0000-000000000000' } });
    expect(snap.status).toBe(422);
  });

  it('keys belong to a project: the same key in another project makes its own volume', async () => {
    const key = 'shared-key';
    const mine = await createVolume(key, { size: 1, name: 'idem-p' });
    const theirs = await createVolume(key, { size: 1, name: 'idem-p' }, { ...MV, 'X-Auth-Token': `${USER}:${OTHER}` }, OTHER);
    expect(mine.status).toBe(202);
    expect(theirs.status).toBe(202);
    expect(theirs.body.volume.id).not.toBe(mine.body.volume.id);
  });

  it('a refused create is answered the same on retry; a malformed key is a 400; without a key nothing changes', async () => {
    const refused = await createVolume('refused-1', { size: 1, volume_type: 'no-such-type' });
    expect(refused.status).toBe(404);
    const again = await createVolume('refused-1', { size: 1, volume_type: 'no-such-type' });
    expect(again.status).toBe(404);
    expect(again.body).toEqual(refused.body);
    expect(again.headers['idempotent-replayed']).toBe('true');

    const bad = await createVolume('x'.repeat(256), { size: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/Idempotency-Key/);

    const a = await request(cairn.url)
      .post(`/v3/${PROJECT}/volumes`)
      .set(MV)
      .send({ volume: { size: 1, name: 'idem-none' } });
    const b = await request(cairn.url)
      .post(`/v3/${PROJECT}/volumes`)
      .set(MV)
      .send({ volume: { size: 1, name: 'idem-none' } });
    expect(a.body.volume.id).not.toBe(b.body.volume.id);
  });

  it('an expired key (24 h) is taken over by a new request', async () => {
    const first = await createVolume('"expiring"', { size: 1, name: 'idem-exp' });
    await cairn
      .db('idempotency_keys')
      .where({ project_id: PROJECT, idempotency_key: 'expiring' })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const second = await createVolume('expiring', { size: 1, name: 'idem-exp' });
    expect(second.status).toBe(202);
    expect(second.body.volume.id).not.toBe(first.body.volume.id);
  });

  it('servers: a retried POST /servers boots one server', async () => {
    const body = {
      server: {
        name: 'idem-srv',
        flavorRef: '1',
        networks: 'none',
        imageRef: '',
        block_device_mapping_v2: [blankRoot(1, { delete_on_termination: true })],
      },
    };
    const post = () =>
      request(cairn.url)
        .post(v21('/servers'))
        .set({ ...novaHeaders(), 'Idempotency-Key': 'srv-1' })
        .send(body);
    const [a, b] = await Promise.all([post(), post()]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body).toEqual(a.body);
    expect(
      await cairn
        .db('servers')
        .where({ name: 'idem-srv' })
        .count({ n: '*' })
        .then((r) => Number(r[0]!.n)),
    ).toBe(1);
    await computeApi(cairn.url).waitStatus(a.body.server.id, 'ACTIVE');
  });
});
