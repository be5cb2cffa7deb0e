import type { Knex } from 'knex';

/**
 * `pending_size`: the size an extend in progress will give the volume. Quota
 * usage counts it from the moment the extend is accepted, so two extends
 * cannot both fit in the same headroom; `size` changes only once the
 * backend has grown the volume. `image_metadata`: Cinder's
 * `volume_image_metadata`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('volumes', (t) => {
    t.integer('pending_size').nullable();
    t.jsonb('image_metadata').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('volumes', (t) => {
    t.dropColumn('pending_size');
    t.dropColumn('image_metadata');
  });
}
