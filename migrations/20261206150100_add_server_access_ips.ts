import type { Knex } from 'knex';

/** Nova's `access_ip_v4` / `access_ip_v6`: addresses a user records on a server (create, update), shown as given. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('servers', (t) => {
    t.string('access_ip_v4', 39).nullable();
    t.string('access_ip_v6', 39).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('servers', (t) => {
    t.dropColumn('access_ip_v4');
    t.dropColumn('access_ip_v6');
  });
}
