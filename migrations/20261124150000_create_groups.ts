import type { Knex } from 'knex';

/**
 * Generic volume groups (Cinder's `group_types`, `group_type_specs`,
 * `groups`, `group_volume_type_mapping`, `group_snapshots`): a group is a
 * grouping of volumes in the database; a group snapshot is one snapshot per
 * member volume, each a row of `snapshots` naming it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('group_types', (t) => {
    t.uuid('id').primary();
    t.string('name', 255).notNullable();
    t.string('description', 255).nullable();
    t.boolean('is_public').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE UNIQUE INDEX group_types_name ON group_types (name)');
  await knex.schema.createTable('group_type_specs', (t) => {
    t.uuid('group_type_id').notNullable().references('group_types.id').onDelete('CASCADE');
    t.string('key', 255).notNullable();
    t.string('value', 255).nullable();
    t.primary(['group_type_id', 'key']);
  });
  await knex.schema.createTable('groups', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.string('name', 255).nullable();
    t.string('description', 255).nullable();
    t.string('status', 32).notNullable();
    t.string('availability_zone', 255).notNullable();
    t.uuid('group_type_id').notNullable().references('group_types.id');
    /** The backend its volume types place on (`host@backend#pool` is the volumes'): members must live there. */
    t.string('backend', 255).nullable();
    t.uuid('group_snapshot_id').nullable();
    t.uuid('source_group_id').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX groups_project_created ON groups (project_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX groups_created ON groups (created_at DESC, id DESC)');
  await knex.schema.createTable('group_volume_types', (t) => {
    t.uuid('group_id').notNullable().references('groups.id').onDelete('CASCADE');
    t.uuid('volume_type_id').notNullable().references('volume_types.id');
    t.primary(['group_id', 'volume_type_id']);
  });
  await knex.schema.createTable('group_snapshots', (t) => {
    t.uuid('id').primary();
    t.uuid('group_id').notNullable().references('groups.id');
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.string('name', 255).nullable();
    t.string('description', 255).nullable();
    t.string('status', 32).notNullable();
    t.uuid('group_type_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX group_snapshots_project_created ON group_snapshots (project_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX group_snapshots_created ON group_snapshots (created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX group_snapshots_group ON group_snapshots (group_id)');
  await knex.schema.alterTable('volumes', (t) => {
    t.uuid('group_id').nullable().references('groups.id');
  });
  await knex.raw('CREATE INDEX volumes_group ON volumes (group_id) WHERE group_id IS NOT NULL');
  await knex.schema.alterTable('snapshots', (t) => {
    t.uuid('group_snapshot_id').nullable().references('group_snapshots.id');
  });
  await knex.raw('CREATE INDEX snapshots_group_snapshot ON snapshots (group_snapshot_id) WHERE group_snapshot_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS snapshots_group_snapshot');
  await knex.schema.alterTable('snapshots', (t) => {
    t.dropColumn('group_snapshot_id');
  });
  await knex.raw('DROP INDEX IF EXISTS volumes_group');
  await knex.schema.alterTable('volumes', (t) => {
    t.dropColumn('group_id');
  });
  for (const table of ['group_snapshots', 'group_volume_types', 'groups', 'group_type_specs', 'group_types']) {
    await knex.schema.dropTableIfExists(table);
  }
}
