import { nameStatements } from '../../src/db/pgStatements';

/** A stand-in for knex's pg client: records the query options each call reached the driver with. */
function fakeClient(fail?: { code: string }) {
  const seen: Array<Record<string, unknown> | undefined> = [];
  const client = {
    _query: async (_connection: unknown, obj: { sql: string; bindings?: unknown[]; options?: Record<string, unknown> }) => {
      seen.push(obj.options);
      if (fail) throw fail;
      return obj;
    },
  };
  return { client, seen };
}

describe('nameStatements: parameterised pg queries as named prepared statements', () => {
  it('names a statement by its text, once, and leaves parameterless and schema statements unnamed', async () => {
    const { client, seen } = fakeClient();
    nameStatements(client);
    await client._query(undefined, { sql: 'select * from t where id = $1', bindings: [1] });
    await client._query(undefined, { sql: 'select * from t where id = $1', bindings: [2] });
    await client._query(undefined, { sql: 'update t set n = $1', bindings: [3] });
    await client._query(undefined, { sql: 'select 1', bindings: [] });
    await client._query(undefined, { sql: 'alter table t add column m int', bindings: [] });
    await client._query(undefined, { sql: 'select * from t where id = $1', bindings: [4] });
    const [a, b, c, none, ddl, after] = seen;
    expect(a?.name).toEqual(expect.any(String));
    expect(b?.name).toBe(a?.name);
    expect(c?.name).not.toBe(a?.name);
    expect(none).toBeUndefined();
    expect(ddl).toBeUndefined();
    // After DDL, a new name: no connection runs the statement prepared before it.
    expect(after?.name).toEqual(expect.any(String));
    expect(after?.name).not.toBe(a?.name);
  });

  it('keeps the options a caller gave (unnamed) and stops naming at the bound', async () => {
    const { client, seen } = fakeClient();
    nameStatements(client, 1);
    await client._query(undefined, { sql: 'select * from t where id = $1', bindings: [1], options: { rowMode: 'array' } });
    await client._query(undefined, { sql: 'select * from t where n = $1', bindings: [1] });
    await client._query(undefined, { sql: 'select * from t where m = $1', bindings: [1] });
    expect(seen[0]).toEqual({ rowMode: 'array' });
    expect(seen[1]?.name).toEqual(expect.any(String));
    expect(seen[2]).toBeUndefined();
  });

  it('prepares anew after PostgreSQL refuses a cached plan (0A000)', async () => {
    const { client, seen } = fakeClient({ code: '0A000' });
    nameStatements(client);
    await expect(client._query(undefined, { sql: 'select * from t where id = $1', bindings: [1] })).rejects.toEqual({ code: '0A000' });
    await expect(client._query(undefined, { sql: 'select * from t where id = $1', bindings: [1] })).rejects.toEqual({ code: '0A000' });
    expect(seen[1]?.name).not.toBe(seen[0]?.name);
  });
});
