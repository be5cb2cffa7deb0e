import pino from 'pino';
import { migrateLatest, openPglite, type Db } from '../../src/db/connection';
import { PgliteMaintenance, usesPglite } from '../../src/db/pgliteMaintenance';
import { DEFAULT_TYPE_ID } from '../../src/domain/volumeType';

let db: Db;
beforeAll(async () => {
  db = openPglite();
  await migrateLatest(db);
});
afterAll(async () => {
  await db.destroy();
});

const stats = async (table: string) =>
  (
    await db.raw(
      'SELECT c.reltuples, s.n_dead_tup, s.last_analyze FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = ?',
      [table],
    )
  ).rows[0] as { reltuples: number; n_dead_tup: string | number; last_analyze: Date | null };

test('embedded databases are the ones without a PostgreSQL URL', () => {
  expect(usesPglite({ databaseUrl: undefined })).toBe(true);
  expect(usesPglite({ databaseUrl: 'pglite://memory' })).toBe(true);
  expect(usesPglite({ databaseUrl: 'postgres://postgres@127.0.0.1/cairn' })).toBe(false);
});

test('analyzes tables not yet analyzed, and vacuums those full of dead rows', async () => {
  await db.raw(
    `INSERT INTO volumes (id, project_id, user_id, size, status, attach_status, availability_zone,
      volume_type_id, host, backend, created_at)
    SELECT gen_random_uuid(), 'p', 'u', 1, 'creating', 'detached', 'nova', ?, 'h@file#file', 'file', now()
    FROM generate_series(1, 300)`,
    [DEFAULT_TYPE_ID],
  );
  const maintenance = new PgliteMaintenance(db, pino({ level: 'silent' }));
  await maintenance.runOnce();
  const analyzed = await stats('volumes');
  expect(analyzed.last_analyze).not.toBeNull();
  expect(Number(analyzed.reltuples)).toBe(300);

  await db.raw("UPDATE volumes SET status = 'available'");
  // PostgreSQL publishes a backend's activity counters at most once a second.
  await new Promise((r) => setTimeout(r, 1100));
  await db.raw('SELECT 1');
  expect(Number((await stats('volumes')).n_dead_tup)).toBe(300);
  await maintenance.runOnce();
  expect(Number((await stats('volumes')).n_dead_tup)).toBe(0);
});
