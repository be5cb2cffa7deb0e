import fc from 'fast-check';
import { isoCinder } from '../../src/domain/time';

/** What isoCinder wrote before it kept the date part per day: toISOString's milliseconds, padded to microseconds. */
const reference = (d: Date) => `${d.toISOString().slice(0, -1)}000`;

describe('isoCinder', () => {
  it('writes every date as toISOString does, padded to microseconds (any year, day boundaries, before 1970)', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (d) => {
        expect(isoCinder(d)).toBe(reference(d));
        expect(isoCinder(d.toISOString())).toBe(reference(d));
      }),
      { numRuns: 20_000 },
    );
    // Most of those lie beyond year 9999; these all within the years written with four digits.
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        (d) => {
          expect(isoCinder(d)).toBe(reference(d));
        },
      ),
      { numRuns: 20_000 },
    );
    for (const ms of [0, -1, 86_399_999, 86_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000]) {
      expect(isoCinder(new Date(ms))).toBe(reference(new Date(ms)));
    }
  });

  it("reads PostgreSQL's UTC text (a row's or json's, up to microseconds) as the Date it stands for", () => {
    const text = (d: Date, micros: string, sep: string, zone: string) => {
      const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
      const fraction = `${iso.slice(20, 23)}${micros}`.replace(/0+$/, ''); // PostgreSQL drops trailing zeros
      return `${iso.slice(0, 10)}${sep}${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}${zone}`;
    };
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.stringMatching(/^\d{3}$/),
        fc.constantFrom<[string, string]>([' ', '+00'], ['T', '+00:00']),
        (d, micros, [sep, zone]) => {
          const t = text(d, micros, sep, zone);
          expect(isoCinder(t)).toBe(reference(d));
          expect(isoCinder(t)).toBe(isoCinder(new Date(t.replace(' ', 'T').replace(/\+00$/, '+00:00'))));
        },
      ),
      { numRuns: 20_000 },
    );
    // Any other form goes by Date: an offset other than UTC, a zone name.
    expect(isoCinder('2026-12-07T10:51:03.5+01:00')).toBe('2026-12-07T09:51:03.500000');
    expect(isoCinder('2026-12-07T10:51:03Z')).toBe('2026-12-07T10:51:03.000000');
  });

  it('reads PostgreSQL json timestamps and leaves absent ones null', () => {
    expect(isoCinder('2026-12-07T10:51:03.123456+00:00')).toBe('2026-12-07T10:51:03.123000');
    expect(isoCinder('2026-12-07T10:51:03+00:00')).toBe('2026-12-07T10:51:03.000000');
    expect(isoCinder(null)).toBeNull();
    expect(isoCinder(undefined)).toBeNull();
  });

  it('refuses an invalid date as toISOString does', () => {
    expect(() => isoCinder(new Date(NaN))).toThrow(RangeError);
  });
});
