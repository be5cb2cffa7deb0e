import fc from 'fast-check';
import { types } from 'pg';
import { parseTimestamptz, pgTypes, pgTypesTimestampsAsText, timestamptzUtcAsText } from '../../src/db/pgTimestamps';
import { isoCinder } from '../../src/domain/time';

const postgresDate = types.getTypeParser(1184, 'text') as (text: string) => unknown;

/** A timestamptz as PostgreSQL prints it: trailing zeros of the fraction dropped, the offset as `+hh[:mm]`. */
const printed = fc
  .record({
    ms: fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }),
    micros: fc.integer({ min: 0, max: 999_999 }),
    offset: fc.constantFrom('+00', '+00', '+01', '-05', '+05:30', '-09:30'),
  })
  .map(({ ms, micros, offset }) => {
    const fraction = String(micros).padStart(6, '0').replace(/0+$/, '');
    return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}${fraction ? `.${fraction}` : ''}${offset}`;
  });

describe('parseTimestamptz: node-postgres’s reading, cheaper for UTC', () => {
  it('reads every printed timestamptz as node-postgres does', () => {
    fc.assert(
      fc.property(printed, (text) => {
        expect((parseTimestamptz(text) as Date).getTime()).toBe((postgresDate(text) as Date).getTime());
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves the rare forms to node-postgres (BC, infinity, years before 1000)', () => {
    for (const text of ['0044-03-15 12:00:00+00 BC', 'infinity', '-infinity', '0999-12-31 23:59:59.5+00', '2026-12-07 04:00:00+00:00']) {
      expect(parseTimestamptz(text)).toEqual(postgresDate(text));
    }
  });

  it('is the parser cairn’s connections get for timestamptz, text format only', () => {
    expect(pgTypes.getTypeParser(1184, 'text')).toBe(parseTimestamptz);
    expect(pgTypes.getTypeParser(1184)).toBe(parseTimestamptz);
    expect(pgTypes.getTypeParser(1114, 'text')).toBe(types.getTypeParser(1114, 'text'));
    expect(pgTypes.getTypeParser(1184, 'binary')).toBe(types.getTypeParser(1184, 'binary'));
  });
});

describe('timestamptzUtcAsText: a list page’s timestamps, left as text where isoCinder reads it', () => {
  it('writes out as node-postgres’s Date would, in every zone: UTC as text, any other offset as a Date', () => {
    fc.assert(
      fc.property(printed, (text) => {
        const read = timestamptzUtcAsText(text);
        expect(typeof read === 'string').toBe(/\+00$/.test(text));
        expect(isoCinder(read as string | Date)).toBe(isoCinder(postgresDate(text) as Date));
      }),
      { numRuns: 2000 },
    );
    for (const text of ['0044-03-15 12:00:00+00 BC', 'infinity', '-infinity']) {
      expect(timestamptzUtcAsText(text)).toEqual(postgresDate(text));
    }
    expect(isoCinder(timestamptzUtcAsText('0999-12-31 23:59:59.5+00') as string)).toBe('0999-12-31T23:59:59.500000');
  });

  it('is the timestamptz parser of a list page’s query only; the other types as on every query', () => {
    expect(pgTypesTimestampsAsText.getTypeParser(1184, 'text')).toBe(timestamptzUtcAsText);
    expect(pgTypesTimestampsAsText.getTypeParser(1114, 'text')).toBe(pgTypes.getTypeParser(1114, 'text'));
    expect(pgTypesTimestampsAsText.getTypeParser(1184, 'binary')).toBe(pgTypes.getTypeParser(1184, 'binary'));
  });
});
