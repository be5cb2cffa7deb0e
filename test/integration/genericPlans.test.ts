/**
 * A list page's prepared statement settles on PostgreSQL's generic plan (src/db/keyset.ts,
 * `limitPage`): with its LIMIT bound as a parameter, PostgreSQL planned every execution
 * afresh, about half a millisecond per detail page. Checked on one connection (a
 * transaction), whose prepared statements `pg_prepared_statements` lists with their
 * generic and custom plan counts. And the task outbox's statements keep to its partial
 * indexes in their generic plans (src/db/tasks.ts, `inStates`), however many finished
 * tasks the table holds.
 */
import { randomUUID } from 'node:crypto';
import { migrateLatest, openDb, type Db } from '../../src/db/connection';
import * as tasks from '../../src/db/tasks';
import { listShown } from '../../src/db/volumes';
import { DEFAULT_TYPE_ID } from '../../src/domain/volumeType';
import { PROJECT, Suite, USER } from './support';
import { volumeCreatedQuery } from '../../src/services/tasks/outcomes';

let suite: Suite;
let db: Db;

beforeAll(async () => {
  suite = await Suite.create();
  db = openDb({ databaseUrl: suite.databaseUrl, dataDir: suite.dataDir });
  await migrateLatest(db);
  // Enough volumes that a plan for an unknown LIMIT (costed as a tenth of them) loses to a plan for 100.
  await db.raw(
    `INSERT INTO volumes (id, project_id, user_id, size, status, attach_status, availability_zone, volume_type_id, host, backend, created_at)
     SELECT gen_random_uuid(), ?, ?, 1, 'available', 'detached', 'nova', ?, 'h@file#file', 'file', now() - i * interval '1 s'
       FROM generate_series(1, 5000) i`,
    [PROJECT, USER, DEFAULT_TYPE_ID],
  );
  await db.raw('ANALYZE volumes');
}, 60_000);

afterAll(async () => {
  await db?.destroy();
  await suite?.cleanup();
}, 60_000);

const plans = async (trx: Db, like: string) =>
  (await trx.raw(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE ?`, [like])).rows as Array<{
    generic_plans: string | number;
    custom_plans: string | number;
  }>;

test('a volume detail page, run again and again, is planned once (its generic plan)', async () => {
  await db.transaction(async (trx) => {
    for (let i = 0; i < 8; i++) {
      await listShown(
        trx,
        { scope: { projectId: PROJECT }, filters: {}, sort: [{ expr: 'volumes.created_at', dir: 'desc' }], limit: 100 },
        ['attached'],
      );
    }
    const [row] = await plans(trx, 'WITH page AS%');
    expect(row).toBeDefined();
    expect(Number(row!.generic_plans)).toBeGreaterThan(0);
  });
});

test("the task outbox's statements read no finished task: no sequential scan of tasks in their generic plans", async () => {
  await db.raw(
    `INSERT INTO tasks (id, kind, resource_type, resource_id, backend, state, attempts, max_attempts, available_at, published_at,
       created_at, completed_at, resource_key)
     SELECT gen_random_uuid(), 'volume.create', 'volume', r, 'file', 'done', 1, 5, now(), now(), now(), now(), 'volume:' || r
       FROM (SELECT gen_random_uuid() AS r FROM generate_series(1, 5000)) ids`,
  );
  await db.raw('ANALYZE tasks');
  await db.transaction(async (trx) => {
    const attempt = { id: randomUUID(), attempt_token: randomUUID() };
    // What the relay, a worker and the sweeper run, each prepared on this connection.
    await tasks.takeDueUnpublished(trx, 50);
    await tasks.claim(trx, attempt.id, 'w', 60);
    await tasks.complete(trx, attempt);
    await tasks.complete(trx, attempt, volumeCreatedQuery(trx, randomUUID(), 'file:x'));
    await tasks.fail(trx, attempt, 'x');
    await tasks.retryLater(trx, attempt, 10, 'x');
    await tasks.lockExpired(trx, 100);
    await tasks.lockUnclaimed(trx, new Date(), 100);
    await tasks.republishStale(trx, new Date());
    await trx.raw('SET LOCAL plan_cache_mode = force_generic_plan');
    const prepared = (
      await trx.raw(`SELECT name, cardinality(parameter_types) AS n FROM pg_prepared_statements WHERE statement ~ '"tasks"'`)
    ).rows as Array<{ name: string; n: number }>;
    expect(prepared.length).toBe(9);
    const scans: string[] = [];
    for (const { name, n } of prepared) {
      const args = n > 0 ? `(${Array(n).fill('NULL').join(', ')})` : '';
      const plan = ((await trx.raw(`EXPLAIN EXECUTE "${name}"${args}`)).rows as Array<{ 'QUERY PLAN': string }>).map(
        (r) => r['QUERY PLAN'],
      );
      if (plan.some((line) => /Seq Scan on tasks/.test(line))) scans.push(plan.join('\n'));
    }
    expect(scans).toEqual([]);
  });
}, 60_000);
