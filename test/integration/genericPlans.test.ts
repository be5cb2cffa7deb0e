/**
 * A list page's prepared statement settles on PostgreSQL's generic plan (src/db/keyset.ts,
 * `limitPage`): with its LIMIT bound as a parameter, PostgreSQL planned every execution
 * afresh, about half a millisecond per detail page. Checked on one connection (a
 * transaction), whose prepared statements `pg_prepared_statements` lists with their
 * generic and custom plan counts.
 */
import { migrateLatest, openDb, type Db } from '../../src/db/connection';
import { listShown } from '../../src/db/volumes';
import { DEFAULT_TYPE_ID } from '../../src/domain/volumeType';
import { PROJECT, Suite, USER } from './support';

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
