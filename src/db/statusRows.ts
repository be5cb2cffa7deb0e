/**
 * The writes the status-bearing tables make alike: a compare-and-set on the
 * status column, a plain update, a delete. Each table's module keeps its own
 * names (casStatus, update, remove) and how its fields are stored.
 */
import type { Conn } from './connection';

/** Fields as stored: `updated_at` now unless given, `metadata` as JSON text. */
export function withMetadataJson(fields: { metadata?: Record<string, string>; updated_at?: Date | null }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields, updated_at: fields.updated_at ?? new Date() };
  if (fields.metadata !== undefined) out.metadata = JSON.stringify(fields.metadata);
  return out;
}

/** Compare-and-set: updates row `id` only if its `column` is one of `from`; the updated row, or undefined when it was not. */
export async function casRow<Row extends object>(
  conn: Conn,
  table: string,
  id: string,
  column: string,
  from: readonly string[],
  values: Record<string, unknown>,
): Promise<Row | undefined> {
  const [row] = await conn(table)
    .where('id', id)
    .whereIn(column, from as string[])
    .update(values)
    .returning('*');
  return row as Row | undefined;
}

/** Updates row `id` whatever its status; the updated row, or undefined when there is none. */
export async function updateRow<Row extends object>(
  conn: Conn,
  table: string,
  id: string,
  values: Record<string, unknown>,
): Promise<Row | undefined> {
  const [row] = await conn(table).where('id', id).update(values).returning('*');
  return row as Row | undefined;
}

/** Deletes row `id`; whether there was one. */
export async function removeRow(conn: Conn, table: string, id: string): Promise<boolean> {
  // RETURNING: PGlite's knex client reports no row count for DELETE.
  return (await conn(table).where('id', id).delete().returning('id')).length > 0;
}
