import type { Knex } from 'knex';

/** Volume types, volumes, the task outbox, services and user messages. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('volume_types', (t) => {
    t.uuid('id').primary();
    t.string('name', 255).notNullable();
    t.string('description', 255).nullable();
    t.boolean('is_public').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).nullable();
    t.timestamp('deleted_at', { useTz: true }).nullable();
  });
  // A name is unique among live types; a deleted type's name may be reused (as in Cinder).
  await knex.raw('CREATE UNIQUE INDEX volume_types_live_name ON volume_types (name) WHERE deleted_at IS NULL');

  await knex.schema.createTable('volume_type_extra_specs', (t) => {
    t.uuid('volume_type_id').notNullable().references('volume_types.id').onDelete('CASCADE');
    t.string('key', 255).notNullable();
    t.string('value', 255).notNullable();
    t.primary(['volume_type_id', 'key']);
  });

  await knex.schema.createTable('volume_type_projects', (t) => {
    t.uuid('volume_type_id').notNullable().references('volume_types.id').onDelete('CASCADE');
    t.string('project_id', 255).notNullable();
    t.primary(['volume_type_id', 'project_id']);
  });

  await knex.schema.createTable('volumes', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.string('display_name', 255).nullable();
    t.string('display_description', 255).nullable();
    t.integer('size').notNullable();
    t.string('status', 32).notNullable();
    t.string('attach_status', 32).notNullable();
    t.string('availability_zone', 255).notNullable();
    t.uuid('volume_type_id').notNullable().references('volume_types.id');
    t.uuid('snapshot_id').nullable();
    t.uuid('source_volid').nullable();
    t.boolean('bootable').notNullable().defaultTo(false);
    t.boolean('multiattach').notNullable().defaultTo(false);
    /** `cairn@<backend>#<pool>`, Cinder's `os-vol-host-attr:host`. */
    t.string('host', 255).notNullable();
    t.string('backend', 255).notNullable();
    /** Where the driver keeps the data (file path, provider volume name). */
    t.string('provider_location', 1024).nullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.jsonb('admin_metadata').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
    t.timestamp('launched_at', { useTz: true }).nullable();
  });
  // Keyset pagination on the default order (created_at desc, id desc) within a project.
  await knex.raw('CREATE INDEX volumes_project_created ON volumes (project_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX volumes_created ON volumes (created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX volumes_type ON volumes (volume_type_id)');

  await knex.schema.createTable('tasks', (t) => {
    t.uuid('id').primary();
    t.string('kind', 64).notNullable();
    t.string('resource_type', 32).notNullable();
    t.uuid('resource_id').notNullable();
    t.string('backend', 255).notNullable();
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.string('state', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable();
    /** Not before: the relay publishes a pending task only once this has passed (retry backoff). */
    t.timestamp('available_at', { useTz: true }).notNullable();
    t.timestamp('published_at', { useTz: true }).nullable();
    t.timestamp('lease_until', { useTz: true }).nullable();
    t.string('lease_owner', 255).nullable();
    t.text('last_error').nullable();
    t.string('request_id', 64).nullable();
    t.string('project_id', 255).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('completed_at', { useTz: true }).nullable();
  });
  await knex.raw("CREATE INDEX tasks_unpublished ON tasks (available_at) WHERE state = 'pending' AND published_at IS NULL");
  await knex.raw("CREATE INDEX tasks_running_lease ON tasks (lease_until) WHERE state = 'running'");
  await knex.raw('CREATE INDEX tasks_resource ON tasks (resource_id)');

  await knex.schema.createTable('services', (t) => {
    t.uuid('id').primary();
    t.string('binary', 64).notNullable();
    t.string('host', 255).notNullable();
    t.string('zone', 255).notNullable();
    t.boolean('disabled').notNullable().defaultTo(false);
    t.string('disabled_reason', 255).nullable();
    t.jsonb('report').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('heartbeat_at', { useTz: true }).notNullable();
    t.unique(['binary', 'host']);
  });

  await knex.schema.createTable('messages', (t) => {
    t.uuid('id').primary();
    t.string('project_id', 255).notNullable();
    t.string('request_id', 64).nullable();
    t.string('resource_type', 32).notNullable();
    t.uuid('resource_uuid').nullable();
    t.string('event_id', 64).notNullable();
    t.string('message_level', 16).notNullable();
    t.text('user_message').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });
  await knex.raw('CREATE INDEX messages_project ON messages (project_id, created_at DESC)');
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['messages', 'services', 'tasks', 'volumes', 'volume_type_projects', 'volume_type_extra_specs', 'volume_types']) {
    await knex.schema.dropTableIfExists(table);
  }
}
