import type { Knex } from 'knex';

/** Cinder creates `__DEFAULT__` in a migration too; its id is fixed so every cluster agrees. */
export const DEFAULT_TYPE_ID = '0a7c3ad1-2b1e-4d7a-9b5e-3f3e2d1c0b00';

export async function up(knex: Knex): Promise<void> {
  await knex('volume_types').insert({
    id: DEFAULT_TYPE_ID,
    name: '__DEFAULT__',
    description: 'Default Volume Type',
    is_public: true,
    created_at: knex.fn.now(),
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('volume_types').where({ id: DEFAULT_TYPE_ID }).delete();
}
