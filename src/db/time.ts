/** Cinder's timestamp format: ISO 8601, UTC, microseconds, no zone suffix. */
export function isoCinder(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  const date = typeof d === 'string' ? new Date(d) : d;
  return date.toISOString().replace('Z', '000').replace(/(\.\d{6})\d*$/, '$1');
}
