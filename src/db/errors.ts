/**
 * PostgreSQL's errors, as the API answers and logs them. A data exception
 * (SQLSTATE class 22: a value of the wrong type or out of range, a NUL, …)
 * or a statement over a program limit (54xxx) comes from the caller's
 * input: it is a 400 with a fixed text — never the statement, which knex
 * puts into the message, nor the value, which PostgreSQL quotes. The log
 * keeps the SQLSTATE and the constraint/table/column names only: no
 * statement, no bind values.
 */

interface PgError {
  code: string;
  severity?: string;
  routine?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** An error raised by PostgreSQL (pg's and PGlite's DatabaseError, as knex rethrows it). */
export function isDbError(err: unknown): err is Error & PgError {
  if (!err || typeof err !== 'object') return false;
  const e = err as Partial<PgError>;
  return typeof e.code === 'string' && SQLSTATE.test(e.code) && (typeof e.severity === 'string' || typeof e.routine === 'string');
}

const TEXTS: Readonly<Record<string, string>> = {
  '22P02': 'a value is not valid for its type',
  '22003': 'a number is out of range',
  '22001': 'a value is too long',
  '22021': 'a string holds a character that cannot be stored',
  '22P05': 'a string holds a character that cannot be stored',
  '22007': 'a date or time is not valid',
  '22008': 'a date or time is out of range',
  '22012': 'a value is out of range',
  '2201W': 'a limit is not valid',
  '2201X': 'an offset is not valid',
  '54000': 'the request is too complex',
  '54001': 'the request is too complex',
};

/**
 * The reason text of Cinder's 400 ("Invalid input received: <reason>") for a
 * database error the caller's input caused; undefined for any other error.
 */
export function dbInputReason(err: unknown): string | undefined {
  if (!isDbError(err)) return undefined;
  if (TEXTS[err.code]) return TEXTS[err.code];
  if (err.code.startsWith('22')) return 'a value is not valid';
  if (err.code.startsWith('54')) return 'the request is too complex';
  return undefined;
}

/**
 * pino's `err` serializer for every logger of the runtime: a database error
 * is logged by its SQLSTATE and names (constraint, table, column, routine),
 * never its message (knex's statement) or detail (the values); anything else
 * as pino's standard serializer does.
 */
export function safeErrSerializer(err: unknown): unknown {
  if (isDbError(err)) {
    const { code, severity, routine, constraint, table, column, schema } = err;
    return {
      type: 'DatabaseError',
      code,
      message: `database error ${code}`,
      ...Object.fromEntries(Object.entries({ severity, routine, constraint, table, column, schema }).filter(([, v]) => v !== undefined)),
    };
  }
  if (err instanceof Error) {
    const out: Record<string, unknown> = { type: err.constructor?.name ?? 'Error', message: err.message, stack: err.stack };
    for (const [k, v] of Object.entries(err)) if (!(k in out) && k !== 'cause') out[k] = v;
    if (err.cause !== undefined) out.cause = safeErrSerializer(err.cause);
    return out;
  }
  return err;
}
