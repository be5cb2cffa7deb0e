import type { Knex } from 'knex';

/**
 * Per-volume ordering of tasks (issue 13). `resource_key` names what a
 * task's storage work touches (`volume:<id>` for a volume's data, its
 * snapshots and clones of it); `seq` is the order tasks were accepted in.
 * A claim skips a task while an older one of the same key is pending or
 * running, so a volume's tasks run one at a time, in order, whichever
 * worker process or host takes them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.string('resource_key', 80).nullable();
  });
  await knex.raw('ALTER TABLE tasks ADD COLUMN seq bigserial');
  await knex.raw("CREATE INDEX tasks_open_key ON tasks (resource_key, seq) WHERE state IN ('pending', 'running')");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS tasks_open_key');
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('seq');
    t.dropColumn('resource_key');
  });
}
