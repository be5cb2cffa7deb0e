import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config';
import { migrations } from '../../migrations';
import { PgliteStatements } from './pgliteStatements';
import { nameStatements } from './pgStatements';
import { pgTypes } from './pgTimestamps';
import { hasDatabase, initdbInChild } from './pgliteInitdb';

export type Db = Knex;
export type Tx = Knex.Transaction;
/** Either the pool or a transaction: repository functions take whichever the caller holds. */
export type Conn = Knex | Knex.Transaction;

/**
 * Whether the driver pays per field it hands over: PGlite copies each across the WebAssembly
 * boundary and parses it, so wide results are cheaper as one json value there; PostgreSQL
 * renders json several times slower than it sends rows (issue 17), so rows are cheaper there.
 */
export const paysPerField = (conn: Conn): boolean => (conn.client as { paysPerField?: boolean }).paysPerField === true;

/**
 * Opens the database: a pg pool for `DATABASE_URL`, else an embedded PGlite
 * under `<dataDir>/pglite` (one connection; knex queues callers on it).
 * `pglite://memory` keeps an embedded database in memory (tests, benchmarks).
 */
export function openDb(config: Pick<Config, 'databaseUrl' | 'dataDir'>, poolMax = 10): Db {
  if (config.databaseUrl === 'pglite://memory') return openPglite();
  if (config.databaseUrl) {
    return knexFactory({
      client: withNamedStatements(),
      connection: { connectionString: config.databaseUrl, types: pgTypes },
      pool: { min: 0, max: poolMax },
    } as Knex.Config);
  }
  const dir = path.join(config.dataDir, 'pglite');
  fs.mkdirSync(dir, { recursive: true });
  // A new data dir: initdb in a child process, which takes its memory with it (src/db/pgliteInitdb.ts).
  if (!hasDatabase(dir)) initdbInChild(dir);
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
  return knexFactory({ client: withPreparedStatements(ClientPGLite), connection: { pglite } } as unknown as Knex.Config);
}

/** knex's PostgreSQL client, its parameterised queries named prepared statements (src/db/pgStatements.ts); a class per pool. */
function withNamedStatements(): Knex.Config['client'] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ClientPG = require('knex/lib/dialects/postgres') as new (config: Knex.Config) => object;
  const Named = class extends ClientPG {};
  nameStatements(Named.prototype as Parameters<typeof nameStatements>[0]);
  return Named as unknown as Knex.Config['client'];
}

type KnexQueryObject = { sql: string; bindings?: unknown[]; options?: unknown; response?: unknown };
type PgliteClientClass = new (config: Knex.Config) => {
  _query(connection: PGliteInstance, obj: KnexQueryObject): Promise<KnexQueryObject>;
};
type PGliteInstance = import('@electric-sql/pglite').PGlite;

/** knex-pglite's client, its queries run through prepared statements (src/db/pgliteStatements.ts). */
function withPreparedStatements(Base: PgliteClientClass): PgliteClientClass {
  const statements = new WeakMap<PGliteInstance, PgliteStatements>();
  return class extends Base {
    /** See `paysPerField`; on the prototype, which a transaction's client shares (an own field it would not). */
    get paysPerField(): boolean {
      return true;
    }

    override async _query(connection: PGliteInstance, obj: KnexQueryObject): Promise<KnexQueryObject> {
      let cache = statements.get(connection);
      if (!cache) statements.set(connection, (cache = new PgliteStatements(connection)));
      switch (PgliteStatements.route(obj.sql, obj.options)) {
        case 'prepared':
          obj.response = await cache.query(obj.sql, obj.bindings ?? []);
          return obj;
        case 'schema':
          await cache.forgetAll();
          return super._query(connection, obj);
        default:
          return super._query(connection, obj);
      }
    }
  };
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
