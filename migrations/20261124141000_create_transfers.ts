import type { Knex } from 'knex';

/**
 * Volume transfers offered and not yet accepted (Cinder's `transfers`): the
 * auth key is kept only as sha1(salt + key). Accepting or deleting a transfer
 * removes its row; a volume has at most one (it is `awaiting-transfer`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('transfers', (t) => {
    t.uuid('id').primary();
    t.uuid('volume_id').notNullable().unique().references('volumes.id').onDelete('CASCADE');
    t.string('display_name', 255).nullable();
    t.string('salt', 255).notNullable();
    t.string('crypt_hash', 255).notNullable();
    /** 3.55: the volume's snapshots stay with the donor project. */
    t.boolean('no_snapshots').notNullable().defaultTo(false);
    t.string('source_project_id', 255).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  await knex.raw('CREATE INDEX transfers_project_created ON transfers (source_project_id, created_at DESC, id DESC)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('transfers');
}
