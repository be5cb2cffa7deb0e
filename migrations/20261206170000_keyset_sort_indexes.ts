import type { Knex } from 'knex';

/**
 * An index for each allowed sort key of the keyset-paginated lists (issue 17), so a page by
 * marker costs the same at 1,000 and 100,000 rows. Each index is on the list's scope column (the
 * project, or none), then the very SQL expression of the sort whitelist (`VOLUME_SORT_COLUMNS` in
 * src/services/volumes/volumes.ts, `SORT_COLUMNS` in src/services/snapshots/snapshots.ts, `SORT_KEYS` in
 * src/services/images/glanceApi.ts), then `id`: applyKeyset (src/db/keyset.ts) orders by the key and `id`
 * in one direction and compares the row `(key, id)` with the marker's, which PostgreSQL walks in
 * such an index either way. Sorting by several keys at once falls back to a sort of the scope's rows.
 * `created_at` had its indexes from the tables' migrations.
 */
const INDEXES: ReadonlyArray<readonly [name: string, table: string, columns: string, where?: string]> = [
  // Volumes of a project (admins with all_tenants sort by created_at through volumes_created).
  ['volumes_project_id', 'volumes', 'project_id, id'],
  ['volumes_project_updated', 'volumes', 'project_id, coalesce(updated_at, created_at), id'],
  ['volumes_project_name', 'volumes', "project_id, coalesce(display_name, ''), id"],
  ['volumes_project_description', 'volumes', "project_id, coalesce(display_description, ''), id"],
  ['volumes_project_size', 'volumes', 'project_id, size, id'],
  ['volumes_project_status', 'volumes', 'project_id, status, id'],
  ['volumes_project_az', 'volumes', 'project_id, availability_zone, id'],
  ['volumes_project_bootable', 'volumes', 'project_id, bootable, id'],
  ['volumes_project_type_id', 'volumes', 'project_id, volume_type_id, id'],
  ['volumes_project_user', 'volumes', 'project_id, user_id, id'],
  ['volumes_project_host', 'volumes', 'project_id, host, id'],
  // Snapshots of a project.
  ['snapshots_project_id', 'snapshots', 'project_id, id'],
  ['snapshots_project_updated', 'snapshots', 'project_id, coalesce(updated_at, created_at), id'],
  ['snapshots_project_name', 'snapshots', "project_id, coalesce(display_name, ''), id"],
  ['snapshots_project_status', 'snapshots', 'project_id, status, id'],
  ['snapshots_project_size', 'snapshots', 'project_id, size, id'],
  ['snapshots_project_volume', 'snapshots', 'project_id, volume_id, id'],
  // Messages (created_at, id), of a project and of all.
  ['messages_project_created_id', 'messages', 'project_id, created_at DESC, id DESC'],
  ['messages_created', 'messages', 'created_at DESC, id DESC'],
  // Attachments of all projects (a project's: volume_attachments_project).
  ['volume_attachments_created', 'volume_attachments', 'created_at DESC, id DESC'],
  // Servers of all projects (a project's: servers_project_created).
  ['servers_created', 'servers', 'created_at DESC, id DESC', 'deleted_at IS NULL'],
  // Images: visibility decides what a caller sees, so these are over the whole table.
  ['images_sort_name', 'images', "coalesce(name, ''), id"],
  ['images_sort_status', 'images', 'status, id'],
  ['images_sort_container_format', 'images', "coalesce(container_format, ''), id"],
  ['images_sort_disk_format', 'images', "coalesce(disk_format, ''), id"],
  ['images_sort_size', 'images', 'coalesce(size, -1), id'],
  ['images_sort_updated', 'images', 'updated_at, id'],
  ['images_sort_visibility', 'images', 'visibility, id'],
  ['images_sort_min_disk', 'images', 'min_disk, id'],
  ['images_sort_min_ram', 'images', 'min_ram, id'],
  ['images_sort_owner', 'images', "coalesce(owner, ''), id"],
  ['images_sort_protected', 'images', 'protected, id'],
  ['images_sort_os_hidden', 'images', 'os_hidden, id'],
  ['images_sort_virtual_size', 'images', 'coalesce(virtual_size, -1), id'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name, table, columns, where] of INDEXES) {
    await knex.raw(`CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${columns})${where ? ` WHERE ${where}` : ''}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...INDEXES].reverse()) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
}
