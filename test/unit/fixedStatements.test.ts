import { openPglite, type Db } from '../../src/db/connection';
import { fixedStatement, fixedStatementsByShape } from '../../src/db/fixedStatements';

describe('fixedStatement: a fixed text past knex, on its pool and driver', () => {
  let db: Db;
  beforeAll(async () => {
    db = openPglite();
    await db.raw('CREATE TABLE t (id int PRIMARY KEY, name text, at timestamptz, doc jsonb)');
    await db('t').insert([
      { id: 1, name: 'one', at: new Date('2026-12-07T01:02:03.456Z'), doc: { a: 1 } },
      { id: 2, name: 'two', at: null, doc: null },
    ]);
  });
  afterAll(() => db.destroy());

  const byName = fixedStatement<{ id: number; name: string; at: Date | null; doc: unknown }>('SELECT * FROM t WHERE name = ? OR id = ?');

  it('answers the rows knex.raw would, with the same types', async () => {
    const fixed = await byName(db, ['one', 2]);
    const raw = (await db.raw('SELECT * FROM t WHERE name = ? OR id = ?', ['one', 2])).rows;
    expect(fixed).toEqual(raw);
    expect(fixed.find((r) => r.id === 1)!.at).toEqual(new Date('2026-12-07T01:02:03.456Z'));
    expect(fixed.find((r) => r.id === 1)!.doc).toEqual({ a: 1 });
  });

  it('runs in a transaction when given one, seeing its uncommitted rows', async () => {
    await db
      .transaction(async (trx) => {
        await trx('t').insert({ id: 3, name: 'three' });
        expect((await byName(trx, ['three', 0])).map((r) => r.id)).toEqual([3]);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await byName(db, ['three', 0])).toEqual([]);
  });

  it("fails with the driver's error and gives the connection back", async () => {
    const bad = fixedStatement('SELECT * FROM t WHERE id = ?::int');
    await expect(bad(db, ['not a number'])).rejects.toMatchObject({ code: '22P02' });
    // PGlite has one connection: a leaked one would leave this waiting until the test's timeout.
    expect((await byName(db, ['two', 0])).map((r) => r.id)).toEqual([2]);
  });

  it('builds one statement per shape, once, and runs each with its own text', async () => {
    const built: string[] = [];
    const byShape = fixedStatementsByShape<[column: 'id' | 'name'], { id: number }>((column) => {
      built.push(column);
      return `SELECT id FROM t WHERE ${column} = ? ORDER BY id`;
    });
    expect(byShape('id')).toBe(byShape('id'));
    expect(await byShape('name')(db, ['two'])).toEqual([{ id: 2 }]);
    expect(await byShape('id')(db, [1])).toEqual([{ id: 1 }]);
    expect(built).toEqual(['id', 'name']);
  });
});
