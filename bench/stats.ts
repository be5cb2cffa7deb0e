/** Small numeric helpers for the benchmark's figures. */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** `12.3 ms`, right-aligned to `width` characters for the number part. */
export function ms(v: number, width = 6): string {
  return `${Number.isFinite(v) ? v.toFixed(1).padStart(width) : 'n/a'.padStart(width)} ms`;
}

export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(0)} MB`;
}

export function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(1)} s`;
}
