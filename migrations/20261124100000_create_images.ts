import type { Knex } from 'knex';

/**
 * cairn's own image store (used when no external Glance is configured):
 * Glance v2's image record. The data is a file `<image dir>/<id>`.
 * `properties` are Glance's extra (custom) properties, shown at the top
 * level of an image; `size`, `checksum` and the hash are set when the data
 * arrives (status queued → saving → active).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('images', (t) => {
    t.uuid('id').primary();
    t.string('name', 255).nullable();
    t.string('status', 32).notNullable();
    t.string('visibility', 32).notNullable();
    t.boolean('protected').notNullable().defaultTo(false);
    t.boolean('os_hidden').notNullable().defaultTo(false);
    t.string('owner', 255).nullable();
    t.string('disk_format', 32).nullable();
    t.string('container_format', 32).nullable();
    t.bigInteger('size').nullable();
    t.bigInteger('virtual_size').nullable();
    t.string('checksum', 32).nullable();
    t.string('os_hash_algo', 64).nullable();
    t.string('os_hash_value', 128).nullable();
    t.integer('min_disk').notNullable().defaultTo(0);
    t.integer('min_ram').notNullable().defaultTo(0);
    t.jsonb('properties').notNullable().defaultTo('{}');
    t.jsonb('tags').notNullable().defaultTo('[]');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  // Glance's default order (created_at desc, id desc), and the name lookups of clients resolving names.
  await knex.raw('CREATE INDEX images_created ON images (created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX images_owner ON images (owner, created_at DESC)');
  await knex.raw('CREATE INDEX images_name ON images (name)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('images');
}
