import type { Knex } from 'knex';
import { DEFAULT_TYPE_ID } from '../src/domain/volumeType';

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
