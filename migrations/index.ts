import type { Knex } from 'knex';
import * as createCore from './20261123170000_create_core';
import * as seedDefaultType from './20261123170100_seed_default_type';

/**
 * The migrations in order. Listed statically (not read from a folder) so
 * the same list runs from TypeScript sources under jest and from dist/.
 */
export const migrations: ReadonlyArray<{ name: string; up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = [
  { name: '20261123170000_create_core', ...createCore },
  { name: '20261123170100_seed_default_type', ...seedDefaultType },
];
