import { PGlite } from '@electric-sql/pglite';
import { openPglite, type Db } from '../../src/db/connection';
import { PgliteStatements } from '../../src/db/pgliteStatements';

/** The prepared statements the session holds (PostgreSQL's own view of them). */
const preparedCount = async (pg: PGlite) =>
  Number((await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0]!.n);

describe('PgliteStatements: PGlite queries through named prepared statements', () => {
  let pg: PGlite;
  beforeAll(async () => {
    pg = new PGlite();
    await pg.exec(
      `CREATE TABLE t (id uuid PRIMARY KEY, n int, big bigint, at timestamptz, doc jsonb, tags text[], flag boolean, note text)`,
    );
  });
  afterAll(() => pg.close());

  const queries: Array<[string, unknown[]]> = [
    [
      'INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *',
      [
        '9b8e1c52-0d7c-4a1e-9c3e-1f2a3b4c5d6e',
        7,
        '9007199254740993',
        new Date('2026-11-24T10:11:12.345Z'),
        { a: [1, 'x'] },
        ['p', 'q'],
        true,
        null,
      ],
    ],
    ['INSERT INTO t (id, n) VALUES ($1, $2)', ['0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 1]],
    ['SELECT * FROM t ORDER BY n', []],
    ['SELECT id, at, doc->$1 AS a FROM t WHERE n > $2 AND flag = $3', ['a', 2, true]],
    ['UPDATE t SET note = $1 WHERE n = $2', ['é "quoted"', 1]],
    ['WITH x AS (SELECT n FROM t) SELECT json_agg(x) AS j, count(*) FROM x', []],
    ['DELETE FROM t WHERE n = $1 RETURNING id', [1]],
  ];

  it('gives what PGlite.query gives: rows, types, fields and affected rows', async () => {
    const statements = new PgliteStatements(pg);
    // The same statements on a second, identical database through PGlite.query.
    const plain = new PGlite();
    await plain.exec(
      `CREATE TABLE t (id uuid PRIMARY KEY, n int, big bigint, at timestamptz, doc jsonb, tags text[], flag boolean, note text)`,
    );
    try {
      for (const [sql, params] of queries) {
        expect({ sql, result: await statements.query(sql, params) }).toEqual({ sql, result: await plain.query(sql, params) });
      }
      // Run again: now from the statements prepared the first time.
      for (const [sql, params] of queries.slice(2, 4)) {
        expect(await statements.query(sql, params)).toEqual(await plain.query(sql, params));
      }
    } finally {
      await plain.close();
    }
    expect(await preparedCount(pg)).toBe(queries.length);
  });

  it("reports PostgreSQL's errors as PGlite.query does, and goes on after them", async () => {
    const statements = new PgliteStatements(pg);
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: { code?: string; message?: string; query?: string }) => e,
      );
    const bad = await failure(statements.query('SELECT * FROM t WHERE id = $1', ['not-a-uuid']));
    const plainBad = await failure(pg.query('SELECT * FROM t WHERE id = $1', ['not-a-uuid']));
    expect(bad).toMatchObject({ code: '22P02', message: plainBad!.message, query: 'SELECT * FROM t WHERE id = $1' });
    expect(await failure(statements.query('SELEC 1'))).toMatchObject({ code: '42601' });

    // A failed transaction refuses until ROLLBACK, then the same statements work again.
    await pg.query('BEGIN');
    expect(
      await failure(statements.query('INSERT INTO t (id, n) VALUES ($1, $2)', ['9b8e1c52-0d7c-4a1e-9c3e-1f2a3b4c5d6e', 1])),
    ).toMatchObject({ code: '23505' });
    expect(await failure(statements.query('SELECT count(*) FROM t'))).toMatchObject({ code: '25P02' });
    await pg.query('ROLLBACK');
    expect((await statements.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 1 }]);
  });

  it('closes the least recently used statement once it holds `max`', async () => {
    const statements = new PgliteStatements(pg, 2);
    await statements.forgetAll();
    const before = await preparedCount(pg);
    for (const n of [1, 2, 3, 1, 4]) expect((await statements.query(`SELECT ${n}::int AS n`)).rows).toEqual([{ n }]);
    expect((await preparedCount(pg)) - before).toBe(2);
  });

  it('closes every statement before the schema changes, so none answers with the old row type', async () => {
    const statements = new PgliteStatements(pg);
    const before = (await statements.query('SELECT * FROM t LIMIT 1')).fields.map((f) => f.name);
    await statements.forgetAll();
    await pg.exec('ALTER TABLE t ADD COLUMN extra int');
    expect((await statements.query('SELECT * FROM t LIMIT 1')).fields.map((f) => f.name)).toEqual([...before, 'extra']);
  });

  it('routes statements: queries prepared, transaction control unnamed, anything else closes them all first', () => {
    expect(PgliteStatements.route('select 1', undefined)).toBe('prepared');
    expect(PgliteStatements.route('  WITH x AS (SELECT 1) SELECT * FROM x', {})).toBe('prepared');
    expect(PgliteStatements.route('insert into t values (1)', undefined)).toBe('prepared');
    expect(PgliteStatements.route('select 1', { rowMode: 'array' })).toBe('unnamed');
    for (const sql of [
      'BEGIN;',
      'COMMIT;',
      'ROLLBACK',
      'SAVEPOINT s1',
      'RELEASE SAVEPOINT s1',
      'ANALYZE "volumes"',
      'VACUUM (ANALYZE) "t"',
    ]) {
      expect(PgliteStatements.route(sql, undefined)).toBe('unnamed');
    }
    for (const sql of [
      'create table x (a int)',
      'ALTER TABLE t ADD COLUMN y int',
      'drop table x',
      'set search_path to "x"',
      'TRUNCATE t',
    ]) {
      expect(PgliteStatements.route(sql, undefined)).toBe('schema');
    }
  });
});

describe('the embedded database (knex on PGlite) uses them', () => {
  let db: Db;
  beforeAll(() => {
    db = openPglite();
  });
  afterAll(() => db.destroy());

  it('prepares repeated queries, and a schema change through knex closes them', async () => {
    const held = async () => Number((await db.raw('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0].n);
    await db.schema.createTable('k', (t) => {
      t.integer('a');
    });
    await db('k').insert({ a: 1 });
    expect(await db('k').select('*')).toEqual([{ a: 1 }]);
    expect(await held()).toBeGreaterThanOrEqual(2);
    await db.schema.alterTable('k', (t) => {
      t.integer('b');
    });
    expect(await db('k').select('*')).toEqual([{ a: 1, b: null }]);
  });
});
