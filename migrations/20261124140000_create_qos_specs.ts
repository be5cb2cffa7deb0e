import type { Knex } from 'knex';

/**
 * QoS specs (Cinder's `quality_of_service_specs`, one row per spec set here:
 * its keys in `specs`) and the association of a volume type with one, as
 * Cinder's `volume_types.qos_specs_id`. Deleting specs clears the
 * associations first (the service does, in the same transaction).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('qos_specs', (t) => {
    t.uuid('id').primary();
    t.string('name', 255).notNullable().unique();
    /** front-end (the hypervisor enforces them), back-end (the storage does) or both. */
    t.string('consumer', 16).notNullable();
    t.jsonb('specs').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX qos_specs_created ON qos_specs (created_at DESC, id DESC)');
  await knex.schema.alterTable('volume_types', (t) => {
    t.uuid('qos_specs_id').nullable().references('qos_specs.id');
  });
  await knex.raw('CREATE INDEX volume_types_qos_specs ON volume_types (qos_specs_id) WHERE qos_specs_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS volume_types_qos_specs');
  await knex.schema.alterTable('volume_types', (t) => {
    t.dropColumn('qos_specs_id');
  });
  await knex.schema.dropTableIfExists('qos_specs');
}
