import type { Knex } from 'knex';

/**
 * Fencing of task attempts (issue 13): every claim writes a fresh
 * `attempt_token`; renewing, completing, retrying and failing a task are
 * conditional on it, so an attempt whose lease lapsed and whose task was
 * offered again can no longer write anything. `lapses` counts attempts
 * that ended because their lease ran out (the sweeper's doing), which do
 * not consume the `max_attempts` budget of attempts that failed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.string('attempt_token', 64).nullable();
    t.integer('lapses').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('attempt_token');
    t.dropColumn('lapses');
  });
}
