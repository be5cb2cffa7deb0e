import request from 'supertest';
import { PROJECT, TOKEN, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };

describe('task leases', () => {
  let cairn: TestCairn;
  // A 1 s lease and a driver that takes 3 s: only renewal keeps the sweeper from re-offering the task.
  beforeAll(async () => { cairn = await startTestCairn({ CAIRN_TASK_LEASE_SECONDS: '1', CAIRN_FAULT_DRIVER_DELAY_MS: '3000' }); });
  afterAll(async () => { await cairn.stop(); });

  it('a driver operation longer than the lease keeps its lease and runs once', async () => {
    const res = await request(cairn.url).post(`/v3/${PROJECT}/volumes`).set(MV).send({ volume: { size: 1 } });
    const id = res.body.volume.id;
    await waitFor(async () => (await request(cairn.url).get(`/v3/${PROJECT}/volumes/${id}`).set(MV)).body.volume.status === 'available',
      15_000, 'available');
    const [task] = await cairn.db('tasks').where({ resource_id: id });
    expect(task).toMatchObject({ state: 'done', attempts: 1 });
  });
});
