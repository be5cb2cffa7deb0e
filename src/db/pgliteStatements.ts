import type { PGlite, Results } from '@electric-sql/pglite';

/** The parts of PGlite's protocol API used here (all public, in `@electric-sql/pglite`). */
interface ProtocolApi {
  serialize: {
    parse(o: { name: string; text: string }): Uint8Array;
    describe(o: { type: 'S' | 'P'; name?: string }): Uint8Array;
    bind(o: { statement: string; values: unknown[] }): Uint8Array;
    execute(o: object): Uint8Array;
    close(o: { type: 'S'; name: string }): Uint8Array;
    sync(): Uint8Array;
  };
}
interface ParseApi {
  parseResults(messages: unknown[], parsers: PGlite['parsers']): Results[];
  parseDescribeStatementResults(messages: unknown[]): number[];
}

interface Prepared {
  readonly name: string;
  /** Parameter types PostgreSQL inferred, which choose each parameter's serializer (as PGlite's own query does). */
  readonly paramTypes: number[];
}

/** Names statements uniquely in the process, whichever PgliteStatements prepares them on a database. */
let statementCount = 0;

/** Statements worth preparing: the queries and row changes a request makes. */
const CACHEABLE = /^\s*(select|insert|update|delete|with)\b/i;
/** Statements that change nothing a prepared statement depends on (ANALYZE and VACUUM re-plan them by themselves). */
const HARMLESS = /^\s*(begin|start|commit|rollback|end|abort|savepoint|release|analyze|vacuum|show|explain|set\s+transaction)\b/i;

/**
 * Named prepared statements for PGlite, one per distinct SQL text (at most
 * `max`; the least recently used is closed first).
 *
 * `PGlite.query` runs every statement as an unnamed one: Parse, Describe,
 * Bind, Describe, Execute and Sync, each a call across the WebAssembly
 * boundary, and PostgreSQL parses and plans the text every time. cairn's
 * statements are a few hundred fixed shapes (knex builds the same text for the
 * same query), so parsing and planning once, then sending Bind, Describe,
 * Execute and Sync in one call, makes a show's query about five times cheaper.
 * Results go through PGlite's own parser (`parseResults`, the same type
 * parsers) and parameters through its serializers, so rows, types and errors
 * are what `PGlite.query` gives. PostgreSQL re-plans a prepared statement by
 * itself after ANALYZE or a change to a table it reads; a statement that may
 * change what a prepared one returns (DDL, SET) closes them all first.
 */
export class PgliteStatements {
  private readonly prepared = new Map<string, Prepared>();
  private readonly protocol: ProtocolApi;
  private readonly parse: ParseApi;

  constructor(
    private readonly pglite: PGlite,
    private readonly max = 200,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('@electric-sql/pglite') as { protocol: ProtocolApi; parse: ParseApi };
    this.protocol = lib.protocol;
    this.parse = lib.parse;
  }

  /** How to run `sql` (with these knex query options): prepared, unnamed, or unnamed after closing every prepared one. */
  static route(sql: string, options: unknown): 'prepared' | 'unnamed' | 'schema' {
    if (options !== undefined && options !== null && Object.keys(options).length > 0) return 'unnamed';
    if (CACHEABLE.test(sql)) return 'prepared';
    return HARMLESS.test(sql) ? 'unnamed' : 'schema';
  }

  /** Runs `sql` with `params` as `PGlite.query` would, through a prepared statement. */
  async query(sql: string, params: readonly unknown[] = []): Promise<Results> {
    return this.pglite._runExclusiveQuery(async () => {
      try {
        const stmt = this.prepared.get(sql) ?? (await this.prepare(sql));
        // Most recently used last: the first entry is the one to close when the cache is full.
        this.prepared.delete(sql);
        this.prepared.set(sql, stmt);
        const values = params.map((p, i) => {
          if (p === null || p === undefined) return null;
          const serialize = this.pglite.serializers[stmt.paramTypes[i]!];
          return serialize ? serialize(p) : String(p);
        });
        const s = this.protocol.serialize;
        const messages = await this.exec([s.bind({ statement: stmt.name, values }), s.describe({ type: 'P' }), s.execute({}), s.sync()]);
        await this.pglite.syncToFs();
        return this.parse.parseResults(messages, this.pglite.parsers)[0]!;
      } catch (err) {
        // As PGlite.query reports a database error.
        if (err && typeof err === 'object' && 'severity' in err) Object.assign(err, { query: sql, params });
        throw err;
      }
    });
  }

  /** Closes every prepared statement (before a statement that may change what they return). */
  async forgetAll(): Promise<void> {
    if (this.prepared.size === 0) return;
    const names = [...this.prepared.values()].map((p) => p.name);
    this.prepared.clear();
    await this.pglite._runExclusiveQuery(() => this.close(names));
  }

  /** Parses and describes `sql` as a named statement. */
  private async prepare(sql: string): Promise<Prepared> {
    if (this.prepared.size >= this.max) {
      const [oldest, gone] = this.prepared.entries().next().value!;
      this.prepared.delete(oldest);
      await this.close([gone.name]);
    }
    const name = `cairn_${++statementCount}`;
    const s = this.protocol.serialize;
    const messages = await this.exec([s.parse({ name, text: sql }), s.describe({ type: 'S', name }), s.sync()]);
    return { name, paramTypes: this.parse.parseDescribeStatementResults(messages) };
  }

  private async close(names: readonly string[]): Promise<void> {
    const s = this.protocol.serialize;
    // A statement that could not be closed only costs its memory; the query that needed the room goes on.
    await this.exec([...names.map((name) => s.close({ type: 'S', name })), s.sync()]).catch(() => undefined);
  }

  /** Sends protocol messages in one call; throws PostgreSQL's error (after the Sync has ended the statement). */
  private async exec(parts: Uint8Array[]): Promise<unknown[]> {
    const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      message.set(p, at);
      at += p.length;
    }
    return (await this.pglite.execProtocol(message, { syncToFs: false })).messages;
  }
}
