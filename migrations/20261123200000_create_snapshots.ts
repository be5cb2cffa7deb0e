import type { Knex } from 'knex';

/**
 * Volume snapshots (Cinder's `snapshots`). `size` is the volume's size when
 * the snapshot was taken (Cinder's `volume_size`); `volume_type_id` is the
 * volume's type then, for the per-type snapshot quotas. A snapshot row goes
 * with its volume's (a cascade delete removes both in one task).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('snapshots', (t) => {
    t.uuid('id').primary();
    t.uuid('volume_id').notNullable().references('volumes.id').onDelete('CASCADE');
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.string('display_name', 255).nullable();
    t.string('display_description', 255).nullable();
    t.integer('size').notNullable();
    t.string('status', 32).notNullable();
    t.string('progress', 255).notNullable();
    t.uuid('volume_type_id').notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    /** Where the driver keeps the snapshot's data (file path, provider snapshot name). */
    t.string('provider_location', 1024).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  // Keyset pagination on the default order (created_at desc, id desc), per project and across projects.
  await knex.raw('CREATE INDEX snapshots_project_created ON snapshots (project_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX snapshots_created ON snapshots (created_at DESC, id DESC)');
  // A volume's snapshots: delete checks, revert's "latest", the volume_id filter.
  await knex.raw('CREATE INDEX snapshots_volume ON snapshots (volume_id, created_at DESC)');
  // Volumes still being made from a source: the source's delete waits for them.
  await knex.raw('CREATE INDEX volumes_snapshot_source ON volumes (snapshot_id) WHERE snapshot_id IS NOT NULL');
  await knex.raw('CREATE INDEX volumes_volume_source ON volumes (source_volid) WHERE source_volid IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS volumes_snapshot_source');
  await knex.raw('DROP INDEX IF EXISTS volumes_volume_source');
  await knex.schema.dropTableIfExists('snapshots');
}
