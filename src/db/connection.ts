import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config';
import { migrations } from '../../migrations';

export type Db = Knex;
export type Tx = Knex.Transaction;
/** Either the pool or a transaction: repository functions take whichever the caller holds. */
export type Conn = Knex | Knex.Transaction;

/**
 * Opens the database: a pg pool for `DATABASE_URL`, else an embedded PGlite
 * under `<dataDir>/pglite` (one connection; knex queues callers on it).
 * `pglite://memory` keeps an embedded database in memory (tests, benchmarks).
 */
export function openDb(config: Pick<Config, 'databaseUrl' | 'dataDir'>, poolMax = 10): Db {
  if (config.databaseUrl === 'pglite://memory') return openPglite();
  if (config.databaseUrl) {
    return knexFactory({ client: 'pg', connection: config.databaseUrl, pool: { min: 0, max: poolMax } });
  }
  const dir = path.join(config.dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  return openPglite(dir);
}

/** PGlite in a folder, or in memory when `dir` is undefined (tests). */
export function openPglite(dir?: string): Db {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ClientPGLite = require('knex-pglite');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  // initdb sizes shared_buffers for a server (160 MB here), and PGlite keeps it in the process's own
  // memory; a one-connection database of cairn's size is served as fast from a fraction of it.
  const pglite = new PGlite(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] });
  return knexFactory({ client: ClientPGLite, connection: { pglite } } as Knex.Config);
}

const PGLITE_SHARED_BUFFERS = '16MB';

const migrationSource: Knex.MigrationSource<(typeof migrations)[number]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, done] = await db.migrate.latest({ migrationSource });
  return done as string[];
}

export async function migrateDown(db: Db): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}
