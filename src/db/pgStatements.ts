import { PgliteStatements } from './pgliteStatements';

type KnexQueryObject = { sql: string; bindings?: unknown[]; options?: Record<string, unknown> };
type QueryFn = (this: unknown, connection: unknown, obj: KnexQueryObject) => Promise<unknown>;

/**
 * Runs the parameterised queries of knex's PostgreSQL client as
 * named prepared statements: node-postgres parses a name once per connection,
 * then sends Bind and Execute only, so PostgreSQL neither parses nor plans
 * cairn's few hundred fixed statement shapes again (it re-plans by itself when
 * a table changes). Statements without parameters keep the simple protocol
 * (they may hold several commands, which a prepared statement may not). A
 * statement that may change what prepared ones return (DDL, SET) starts a new
 * generation of names, so no connection reuses a statement prepared before
 * it; at most `max` texts are named, the rest run unnamed as before. A
 * table changed by another process can make PostgreSQL refuse a prepared
 * `SELECT *` ("cached plan must not change result type", 0A000): that query
 * fails, and the next ones are prepared anew. `client` is a client class's
 * prototype (src/db/connection.ts): knex makes a transaction's client from
 * the prototype, so a patch of one instance would miss every transaction.
 */
export function nameStatements(client: { _query: QueryFn }, max = 500): void {
  const names = new Map<string, string>();
  let generation = 0;
  const unnamed = client._query;
  client._query = function (connection, obj) {
    // A query's own type parsers (`types`) only read its rows: it may be named all the same.
    const { types, ...others } = obj.options ?? {};
    const route = PgliteStatements.route(obj.sql, others);
    if (route === 'prepared' && obj.bindings?.length) {
      let name = names.get(obj.sql);
      if (name === undefined && names.size < max) names.set(obj.sql, (name = `cairn_${generation}_${names.size}`));
      if (name !== undefined) obj.options = types === undefined ? { name } : { name, types };
    } else if (route === 'schema') {
      forget();
    }
    return unnamed.call(this, connection, obj).catch((err: unknown) => {
      if ((err as { code?: unknown } | null)?.code === '0A000') forget();
      throw err;
    });
  };
  function forget(): void {
    names.clear();
    generation++;
  }
}
