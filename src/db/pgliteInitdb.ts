import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Creates the embedded database in an empty folder in a short-lived child
 * process (`node pgliteInitdb.js <dir>`), so the server never holds what
 * initdb needs.
 *
 * PGlite runs initdb in two more WebAssembly instances of its own (a scratch
 * PostgreSQL and initdb itself, some 450 MB between them) and copies their
 * result into the folder as a tar. In the server's process all that stays
 * resident until a major garbage collection happens to free it, and its
 * malloc heap keeps the tar's pages: a first start used to leave the
 * all-in-one at ~350 MB instead of ~230 MB, after a peak of ~790 MB. In a
 * child, the memory goes back to the system when it exits, and the server
 * opens a folder that already holds a database.
 *
 * Returns false (and does nothing) where there is no compiled script to run
 * (under ts-jest); PGlite then runs initdb in this process as before.
 */
export function initdbInChild(dir: string): boolean {
  const script = path.join(__dirname, 'pgliteInitdb.js');
  if (!fs.existsSync(script)) return false;
  const res = spawnSync(process.execPath, [script, dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) {
    throw new Error(`creating the embedded database in ${dir} failed (${res.error?.message ?? `exit ${res.status ?? res.signal}`})`);
  }
  return true;
}

/** Whether `dir` already holds a PostgreSQL data directory. */
export const hasDatabase = (dir: string): boolean => fs.existsSync(path.join(dir, 'PG_VERSION'));

async function main(dir: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const pglite = await PGlite.create(dir);
  await pglite.close();
  if (!hasDatabase(dir)) throw new Error(`PGlite left no database in ${dir}`);
}

if (require.main === module) {
  main(process.argv[2]!).then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
