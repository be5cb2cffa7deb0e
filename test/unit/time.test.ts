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
