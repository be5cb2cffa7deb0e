import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Knex } from 'knex';
import { DEFAULT_TYPE_ID } from '../src/domain/volumeType';
import type { VolumeCreateBody } from './volumes';

export interface SeedTarget {
  readonly projectId: string;
  readonly userId: string;
  /** `os-vol-host-attr:host` of a volume the API created, e.g. `bench@file#file`. */
  readonly host: string;
  readonly backend: string;
  /** Where the file backend keeps volumes (provider_location's folder). */
  readonly volumeDir: string;
}

/** Seeded volumes' creation times: SEED_EPOCH + 10 ms × their index, so every seeded volume is older than the API's. */
const SEED_EPOCH = Date.parse('2026-01-01T00:00:00Z');

/**
 * Inserts volumes straight into the `volumes` table, as the API and a worker would have left them
 * once available (columns of migrations/20261123170000_create_core.ts; the default volume type).
 * Only for the list/show measurements: no file exists behind them. Works on both drivers (a knex of
 * PostgreSQL, or of the all-in-one's PGlite data dir opened while cairn is stopped): each batch of
 * 1000 rows is one json parameter. `firstIndex` numbers the rows across calls, so the volume seeded
 * with index i is the (i+1)-th oldest seeded one, whatever the call.
 */
export async function seedVolumes(db: Knex, bodies: readonly VolumeCreateBody[], t: SeedTarget, firstIndex = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < bodies.length; from += 1000) {
    const rows = bodies.slice(from, from + 1000).map(({ volume }, i) => {
      const id = randomUUID();
      ids.push(id);
      return {
        id,
        display_name: volume.name ?? null,
        display_description: volume.description ?? null,
        size: volume.size,
        metadata: volume.metadata ?? {},
        created_at: new Date(SEED_EPOCH + (firstIndex + from + i) * 10).toISOString(),
        provider_location: path.join(t.volumeDir, `volume-${id}`),
      };
    });
    await db.raw(
      `INSERT INTO volumes (id, project_id, user_id, display_name, display_description, size, status, attach_status,
         availability_zone, volume_type_id, snapshot_id, source_volid, bootable, multiattach, host, backend,
         provider_location, metadata, admin_metadata, created_at, updated_at, launched_at)
       SELECT v.id, ?, ?, v.display_name, v.display_description, v.size, 'available', 'detached',
         'nova', ?, NULL, NULL, false, false, ?, ?,
         v.provider_location, v.metadata, '{}'::jsonb, v.created_at, v.created_at + interval '30 ms', v.created_at + interval '30 ms'
       FROM jsonb_to_recordset(?::jsonb)
         AS v(id uuid, display_name text, display_description text, size int, metadata jsonb, created_at timestamptz, provider_location text)`,
      [t.projectId, t.userId, DEFAULT_TYPE_ID, t.host, t.backend, JSON.stringify(rows)],
    );
  }
  // What autovacuum would do shortly after a bulk load.
  await db.raw('ANALYZE volumes');
  return ids;
}
