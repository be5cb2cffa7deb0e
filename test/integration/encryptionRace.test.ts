/**
 * A volume create racing the creation of its type's encryption specs, on PostgreSQL where the two really run at
 * once: the create's read of the type share-locks its row (src/services/types/volumeTypes.ts,
 * `resolveTypeForNewVolume`), and its encryption check, a later statement, sees the specs committed while it
 * waited for that lock. The volume is refused (cairn has no key manager), never made of a type whose encryption
 * it could not honour.
 */
import { client, poll, Suite, type CairnProcess } from './support';

let suite: Suite;
let api: CairnProcess;
const http = client(() => api);

beforeAll(async () => {
  suite = await Suite.create();
  api = await suite.startApi();
}, 60_000);

afterAll(async () => {
  await suite?.cleanup();
}, 60_000);

test("a create waiting on the type's lock sees the encryption committed meanwhile, and is refused", async () => {
  const type = await http.post('/types', { volume_type: { name: `enc-race-${suite.hostname}` } });
  expect(type.status).toBe(200);
  const typeId = (type.body as { volume_type: { id: string } }).volume_type.id;

  // What the encryption create does in its transaction: the type locked for update, then the specs inserted.
  const holder = await suite.pool.connect();
  let created: Awaited<ReturnType<typeof http.post>>;
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM volume_types WHERE id = $1 FOR UPDATE', [typeId]);
    await holder.query(
      `INSERT INTO volume_type_encryption (volume_type_id, encryption_id, provider, control_location, created_at)
       VALUES ($1, gen_random_uuid(), 'luks', 'front-end', now())`,
      [typeId],
    );
    const pending = http.post('/volumes', { volume: { size: 1, volume_type: typeId } });
    await poll('the create to wait on the type row', async () => {
      const { rows } = await suite.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0].n > 0;
    });
    await holder.query('COMMIT');
    created = await pending;
  } finally {
    holder.release();
  }
  expect(created.status).toBe(400);
  expect(JSON.stringify(created.body)).toMatch(/Key manager error/);
  const { rows } = await suite.pool.query('SELECT count(*)::int AS n FROM volumes WHERE volume_type_id = $1', [typeId]);
  expect(rows[0].n).toBe(0);
}, 60_000);
