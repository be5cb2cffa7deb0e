import type { Knex } from 'knex';
import type { Conn } from './connection';

/** The parts of knex's client (both drivers' clients extend its PostgreSQL one) a fixed statement uses. */
interface DriverClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
  positionBindings(sql: string): string;
  _query(
    connection: unknown,
    obj: { sql: string; bindings: readonly Knex.RawBinding[]; options: object; method: string },
  ): Promise<{ response: { rows: unknown[] } }>;
}

/**
 * A statement whose text never changes (written with knex's `?` placeholders),
 * run on knex's pool and driver but past its query builder and runner: on the
 * hottest reads (a volume show, the types list) building and compiling the query
 * and knex's runner were about a sixth of the request's CPU (issue 17). The
 * driver's `_query` is where both clients prepare statements by their text
 * (src/db/pgStatements.ts, src/db/pgliteStatements.ts), so this is prepared once
 * too. Errors are the driver's, as through knex. In a transaction it runs there,
 * as `knex.raw`.
 */
export function fixedStatement<R>(sql: string): (conn: Conn, bindings: readonly Knex.RawBinding[]) => Promise<R[]> {
  let positional: string | undefined;
  return async (conn, bindings) => {
    if ((conn as Knex.Transaction).isTransaction) return ((await conn.raw(sql, bindings)) as { rows: R[] }).rows;
    const client = conn.client as DriverClient;
    positional ??= client.positionBindings(sql);
    const connection = await client.acquireConnection();
    try {
      const obj = await client._query(connection, { sql: positional, bindings, options: {}, method: 'raw' });
      return obj.response.rows as R[];
    } finally {
      await client.releaseConnection(connection);
    }
  };
}

/** A query of a few fixed shapes: one fixed statement per shape, its text built on first use. */
export function fixedStatementsByShape<S extends ReadonlyArray<string | number | boolean>, R>(
  text: (...shape: S) => string,
): (...shape: S) => (conn: Conn, bindings: readonly Knex.RawBinding[]) => Promise<R[]> {
  const byShape = new Map<string, ReturnType<typeof fixedStatement<R>>>();
  return (...shape) => {
    const key = shape.join(':');
    let statement = byShape.get(key);
    if (!statement) byShape.set(key, (statement = fixedStatement<R>(text(...shape))));
    return statement;
  };
}
