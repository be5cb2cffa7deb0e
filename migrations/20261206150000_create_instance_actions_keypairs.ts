import type { Knex } from 'knex';

/**
 * Nova's `instance_actions` (+ their events, kept as one json array per
 * action) and `key_pairs`. An action is what a request did to a server
 * (create, stop, attach_volume, extend_volume…), found by the server and
 * the request id; its events say when each step ran and how it ended.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('instance_actions', (t) => {
    t.uuid('id').primary();
    t.uuid('server_id').notNullable().references('servers.id').onDelete('CASCADE');
    t.string('project_id', 255).notNullable();
    t.string('user_id', 255).nullable();
    t.string('request_id', 255).notNullable();
    t.string('action', 255).notNullable();
    t.string('message', 255).nullable();
    /** [{event, start_time, finish_time, result, traceback}] */
    t.jsonb('events').notNullable().defaultTo('[]');
    t.timestamp('start_time', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX instance_actions_server ON instance_actions (server_id, start_time DESC, id DESC)');

  await knex.schema.createTable('key_pairs', (t) => {
    t.string('user_id', 255).notNullable();
    t.string('name', 255).notNullable();
    t.string('type', 32).notNullable();
    t.text('public_key').notNullable();
    t.string('fingerprint', 255).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['user_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('key_pairs');
  await knex.schema.dropTable('instance_actions');
}
