import type { Knex } from 'knex';

/**
 * Pending tasks by when they became available, for the sweeper's two looks at them (no worker took a
 * task in time; a published task was never delivered). Only pending rows are indexed, so the finished
 * tasks the table keeps do not slow either (issue 17).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("CREATE INDEX tasks_pending ON tasks (available_at) WHERE state = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS tasks_pending');
}
