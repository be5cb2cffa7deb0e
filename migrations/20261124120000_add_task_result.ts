import type { Knex } from 'knex';

/**
 * `result`: what a task that answers a question reports (`backend.reconcile`:
 * the worker's view of its storage directory), written in the transaction
 * that completes the task, read by whoever asked (`cairn-manage reconcile`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.jsonb('result').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('result');
  });
}
