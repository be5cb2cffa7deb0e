import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { DEFAULT_TYPE_ID } from '../migrations/20261123170100_seed_default_type';
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

/**
 * Inserts volumes straight into PostgreSQL's `volumes` table, as the API and a worker would
 * have left them once available (columns of migrations/20261123170000_create_core.ts; the
 * default volume type). Only for the list/show measurements: no file exists behind them.
 * Rows go in batches of 1000, newest last, as if created one after another.
 */
export async function seedVolumes(databaseUrl: string, bodies: readonly VolumeCreateBody[], t: SeedTarget): Promise<string[]> {
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  const ids: string[] = [];
  try {
    const start = Date.now() - bodies.length * 10;
    for (let from = 0; from < bodies.length; from += 1000) {
      const batch = bodies.slice(from, from + 1000);
      const cols: Record<string, unknown[]> = {
        id: [], display_name: [], display_description: [], size: [], metadata: [], created_at: [], provider_location: [],
      };
      batch.forEach(({ volume }, i) => {
        const id = randomUUID();
        ids.push(id);
        cols.id!.push(id);
        cols.display_name!.push(volume.name ?? null);
        cols.display_description!.push(volume.description ?? null);
        cols.size!.push(volume.size);
        cols.metadata!.push(JSON.stringify(volume.metadata ?? {}));
        cols.created_at!.push(new Date(start + (from + i) * 10));
        cols.provider_location!.push(path.join(t.volumeDir, `volume-${id}`));
      });
      await pg.query(
        `INSERT INTO volumes (id, project_id, user_id, display_name, display_description, size, status, attach_status,
           availability_zone, volume_type_id, snapshot_id, source_volid, bootable, multiattach, host, backend,
           provider_location, metadata, admin_metadata, created_at, updated_at, launched_at)
         SELECT v.id, $1, $2, v.display_name, v.display_description, v.size, 'available', 'detached',
           'nova', $3, NULL, NULL, false, false, $4, $5,
           v.provider_location, v.metadata, '{}'::jsonb, v.created_at, v.created_at + interval '30 ms', v.created_at + interval '30 ms'
         FROM unnest($6::uuid[], $7::text[], $8::text[], $9::int[], $10::jsonb[], $11::timestamptz[], $12::text[])
           AS v(id, display_name, display_description, size, metadata, created_at, provider_location)`,
        [t.projectId, t.userId, DEFAULT_TYPE_ID, t.host, t.backend,
          cols.id, cols.display_name, cols.display_description, cols.size, cols.metadata, cols.created_at, cols.provider_location],
      );
    }
    // What autovacuum would do shortly after a bulk load.
    await pg.query('ANALYZE volumes');
  } finally {
    await pg.end();
  }
  return ids;
}
