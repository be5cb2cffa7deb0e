import type { Knex } from 'knex';

/**
 * Servers (Nova's `instances`, the part cairn keeps) and their block device
 * mappings (Nova's `block_device_mapping`). A mapping names its volume and,
 * once attached, the Cinder-side attachment; `boot_index` 0 is the root.
 * Volumes are not foreign keys: a volume may be deleted (delete_on_termination)
 * while the mapping row is being torn down.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('servers', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.string('name', 255).notNullable();
    t.string('description', 255).nullable();
    /** Nova's vm_state / task_state / power_state; the API status derives from them. */
    t.string('vm_state', 32).notNullable();
    t.string('task_state', 32).nullable();
    t.integer('power_state').notNullable().defaultTo(0);
    t.string('flavor_id', 255).notNullable();
    /** The image of an image-backed root ('' when booted from a volume). */
    t.string('image_ref', 255).notNullable().defaultTo('');
    t.string('root_device_name', 255).notNullable();
    t.string('availability_zone', 255).notNullable();
    t.string('host', 255).notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.jsonb('tags').notNullable().defaultTo('[]');
    /** Why the server is in ERROR: {code, message, created}. */
    t.jsonb('fault').nullable();
    /** Who drives the server's in-flight operation (task_state) until when; see serverOps.ts. */
    t.timestamp('lease_until', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
    t.timestamp('launched_at', { useTz: true }).nullable();
    t.timestamp('deleted_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX servers_project_created ON servers (project_id, created_at DESC, id DESC) WHERE deleted_at IS NULL');
  // The sweeper's scan: servers with an operation in flight.
  await knex.raw('CREATE INDEX servers_in_flight ON servers (lease_until) WHERE task_state IS NOT NULL');

  await knex.schema.createTable('block_device_mappings', (t) => {
    t.uuid('id').primary();
    t.uuid('server_id').notNullable().references('servers.id').onDelete('CASCADE');
    t.string('project_id', 255).notNullable();
    t.integer('boot_index').nullable();
    t.string('device_name', 255).nullable();
    t.string('source_type', 32).notNullable();
    t.string('destination_type', 32).notNullable();
    t.uuid('volume_id').nullable();
    t.uuid('snapshot_id').nullable();
    t.string('image_id', 255).nullable();
    t.integer('volume_size').nullable();
    t.string('volume_type', 255).nullable();
    t.boolean('delete_on_termination').notNullable().defaultTo(false);
    t.string('tag', 60).nullable();
    t.uuid('attachment_id').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  // One mapping per (server, volume), as Nova's get_by_volume_and_instance assumes.
  await knex.raw('CREATE UNIQUE INDEX bdm_server_volume ON block_device_mappings (server_id, volume_id) WHERE volume_id IS NOT NULL');
  await knex.raw('CREATE INDEX bdm_volume ON block_device_mappings (volume_id) WHERE volume_id IS NOT NULL');
  // Attachments of a server (teardown waits for each): by instance.
  await knex.raw('CREATE INDEX volume_attachments_instance ON volume_attachments (instance_uuid) WHERE instance_uuid IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS volume_attachments_instance');
  await knex.schema.dropTableIfExists('block_device_mappings');
  await knex.schema.dropTableIfExists('servers');
}
