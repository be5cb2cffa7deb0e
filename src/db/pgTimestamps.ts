import { types } from 'pg';

const TIMESTAMPTZ = 1184;
const parseAnyTimestamptz = types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

/** What PostgreSQL prints for a timestamptz in a UTC session: four-digit year, up to six fraction digits, `+00`. */
const UTC_TEXT = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\+00$/;

/**
 * A timestamptz as node-postgres's own parser reads it (postgres-date), but the
 * common form (UTC) by the engine's ISO 8601 parser: about 2.5 times cheaper,
 * and a detail page of 100 volumes reads 300 of them (issue 17). Any other form
 * (an offset, BC, infinity, a year before 1000) goes to node-postgres's parser.
 */
export function parseTimestamptz(text: string): Date | number | null {
  return UTC_TEXT.test(text) ? new Date(`${text.slice(0, 10)}T${text.slice(11)}:00`) : parseAnyTimestamptz(text);
}

/** node-postgres's type parsers with the timestamptz one above: the `types` of cairn's pg connections. */
export const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ && format !== 'binary' ? parseTimestamptz : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

/**
 * A timestamptz in its UTC form stays PostgreSQL's text (`isoCinder` writes it out without a Date); any other form
 * (a session in another time zone, BC, infinity) is read as `parseTimestamptz` reads it.
 */
export function timestamptzUtcAsText(text: string): string | Date | number | null {
  return UTC_TEXT.test(text) ? text : parseAnyTimestamptz(text);
}

/** As `pgTypes`, timestamptz by `timestamptzUtcAsText`: for a list page, whose timestamps are only written out again (issue 17). */
export const pgTypesTimestampsAsText = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ && format !== 'binary' ? timestamptzUtcAsText : pgTypes.getTypeParser(oid, format)) as typeof types.getTypeParser,
};
