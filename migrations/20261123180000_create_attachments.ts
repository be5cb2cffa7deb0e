import type { Knex } from 'knex';

/** Volume attachments (Cinder's `volume_attachment`): one row per volume × server connection. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('volume_attachments', (t) => {
    t.uuid('id').primary();
    t.uuid('volume_id').notNullable().references('volumes.id').onDelete('CASCADE');
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).notNullable();
    t.uuid('instance_uuid').nullable();
    t.string('attached_host', 255).nullable();
    t.string('mountpoint', 255).nullable();
    t.string('attach_mode', 2).nullable();
    t.string('attach_status', 32).notNullable();
    t.jsonb('connector').nullable();
    t.jsonb('connection_info').nullable();
    t.timestamp('attach_time', { useTz: true }).nullable();
    t.timestamp('detach_time', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX volume_attachments_volume ON volume_attachments (volume_id)');
  await knex.raw('CREATE INDEX volume_attachments_project ON volume_attachments (project_id, created_at DESC, id DESC)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('volume_attachments');
}
