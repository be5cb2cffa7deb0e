/** Cinder's timestamp format: ISO 8601, UTC, microseconds, no zone suffix. */
export function isoCinder(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  if (typeof d === 'string') {
    // PostgreSQL's own UTC text needs no Date: a list page's rows keep theirs as text (issue 17).
    const m = PG_UTC_TEXT.exec(d);
    if (m) return `${m[1]}T${m[2]}.${m[3] === undefined ? '000' : m[3].padEnd(3, '0').slice(0, 3)}000`;
  }
  const ms = (typeof d === 'string' ? new Date(d) : d).getTime();
  // toISOString() is always `…ss.sssZ`: milliseconds, padded to Cinder's microseconds. It costs ~0.7 µs, and a detail
  // page renders 300 timestamps (issue 17): the date part is kept per day, the time of day is arithmetic.
  if (!(ms >= FIRST_MS && ms <= LAST_MS)) return `${new Date(ms).toISOString().slice(0, -1)}000`; // years beyond 0–9999, invalid dates
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    lastDay = day;
    lastDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11); // `YYYY-MM-DDT`
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${lastDayPrefix}${two(h)}:${two(m)}:${two(s)}.${three(rest - s * 1000)}000`;
}

/** A timestamptz as PostgreSQL prints it in a UTC session: as a row's text (`2026-12-07 10:51:03.123456+00`) or in json (`…T…+00:00`). */
const PG_UTC_TEXT = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00(?::00)?$/;
const DAY_MS = 86_400_000;
/** 0000-01-01 and 9999-12-31T23:59:59.999: the years toISOString writes with four digits. */
const FIRST_MS = -62_167_219_200_000;
const LAST_MS = 253_402_300_799_999;
let lastDay = NaN;
let lastDayPrefix = '';
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
