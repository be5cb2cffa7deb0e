import type { Knex } from 'knex';

/**
 * Quota limits: per project (`quotas`) and per class (`quota_classes`, of
 * which Cinder uses `default`). Limits only: usage is never stored, it is
 * summed from the resources inside the transaction that consumes it, so it
 * cannot drift (Cinder's `quota_usages`/`reservations` tables are what drift).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('quotas', (t) => {
    t.string('project_id', 255).notNullable();
    // `volumes_<type name>` keys: type names are up to 255 characters.
    t.string('resource', 300).notNullable();
    t.integer('hard_limit').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).nullable();
    t.primary(['project_id', 'resource']);
  });
  await knex.schema.createTable('quota_classes', (t) => {
    t.string('class_name', 255).notNullable();
    t.string('resource', 300).notNullable();
    t.integer('hard_limit').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).nullable();
    t.primary(['class_name', 'resource']);
  });
  // Usage is summed per project (and type) on every consuming request.
  await knex.raw('CREATE INDEX volumes_project_type ON volumes (project_id, volume_type_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS volumes_project_type');
  await knex.schema.dropTableIfExists('quota_classes');
  await knex.schema.dropTableIfExists('quotas');
}
