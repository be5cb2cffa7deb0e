import type { Knex } from 'knex';

/**
 * Volume backups (Cinder's `backups`). A backup outlives its volume, so
 * `volume_id` is no foreign key (Cinder keeps it too). `service_metadata` is
 * the folder below the backup directory that holds the backup's chunks and
 * metadata object (`<container>/<id>`); an imported record points at the
 * folder of the backup it was exported from. `parent_id` is the backup an
 * incremental one was taken against; a parent is not deleted while it has one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('backups', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.uuid('volume_id').notNullable();
    t.uuid('snapshot_id').nullable();
    t.uuid('parent_id').nullable();
    t.string('display_name', 255).nullable();
    t.string('display_description', 255).nullable();
    t.string('container', 255).nullable();
    t.string('availability_zone', 255).nullable();
    t.string('status', 32).notNullable();
    t.string('fail_reason', 255).nullable();
    /** GiB: the volume's size when the backup was taken. */
    t.integer('size').notNullable();
    t.integer('object_count').notNullable().defaultTo(0);
    t.boolean('is_incremental').notNullable().defaultTo(false);
    t.string('service_metadata', 1024).nullable();
    t.uuid('restore_volume_id').nullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('data_timestamp', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX backups_project_created ON backups (project_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX backups_created ON backups (created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX backups_volume ON backups (volume_id, data_timestamp DESC)');
  await knex.raw('CREATE INDEX backups_parent ON backups (parent_id) WHERE parent_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('backups');
}
