import type { Knex } from 'knex';

/**
 * `Idempotency-Key` retries of creates (src/services/idempotency.ts): one row per
 * project and key, holding what the first request's body hashed to and, once it
 * was answered, that answer. Rows expire after 24 h; the API deletes them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.string('project_id', 255).notNullable();
    t.string('idempotency_key', 255).notNullable();
    t.string('operation', 64).notNullable();
    /** sha256 of the operation, path and JSON body of the first request. */
    t.string('fingerprint', 64).notNullable();
    /** null while the first request is being handled. */
    t.integer('response_status').nullable();
    /** JSON text, not jsonb: a replay repeats the first answer's bytes (jsonb would reorder its keys). */
    t.text('response_body').nullable();
    t.text('response_headers').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['project_id', 'idempotency_key']);
  });
  await knex.raw('CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
}
