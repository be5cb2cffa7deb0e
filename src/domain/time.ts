/** Cinder's timestamp format: ISO 8601, UTC, microseconds, no zone suffix. */
export function isoCinder(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  const date = typeof d === 'string' ? new Date(d) : d;
  // toISOString() is always `…ss.sssZ`: milliseconds, padded to Cinder's microseconds.
  return `${date.toISOString().slice(0, -1)}000`;
}
