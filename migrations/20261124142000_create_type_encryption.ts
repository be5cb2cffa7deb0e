import type { Knex } from 'knex';

/**
 * A volume type's encryption specs (Cinder's `encryption`): at most one set
 * per type. cairn has no key manager, so no volume may be of such a type
 * (volume creates refuse it as Cinder does without one), and the specs may
 * change only while no volume uses the type.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('volume_type_encryption', (t) => {
    t.uuid('volume_type_id').primary().references('volume_types.id').onDelete('CASCADE');
    t.uuid('encryption_id').notNullable();
    t.string('provider', 255).notNullable();
    t.string('cipher', 255).nullable();
    t.integer('key_size').nullable();
    t.string('control_location', 16).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('volume_type_encryption');
}
