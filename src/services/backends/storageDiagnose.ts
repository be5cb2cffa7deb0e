import type { ProviderReport, WorkerProviders } from './extstorage';

/**
 * `cairn-manage storage diagnose`: Ganeti's `gnt-storage diagnose`, over
 * the providers each worker reports. A provider must be present and valid,
 * with the same checksum, on every worker: Ganeti does not replicate
 * provider directories and neither does cairn, so this is how an operator
 * learns that copies differ. Down workers are shown but not judged.
 */

export type ProviderState = 'valid' | 'invalid' | 'missing';

export interface ProviderOnWorker {
  readonly worker: string;
  readonly up: boolean;
  readonly state: ProviderState;
  readonly reason?: string;
  readonly checksum?: string;
}

export interface ProviderDiagnosis {
  readonly provider: string;
  readonly workers: readonly ProviderOnWorker[];
  /** Valid with one checksum on every live worker. */
  readonly consistent: boolean;
  readonly problems: readonly string[];
}

export const shortSum = (sum: string | undefined): string => (sum ? sum.slice(0, 12) : '');

export function diagnoseWorkers(workers: readonly WorkerProviders[]): ProviderDiagnosis[] {
  const names = [...new Set(workers.flatMap((w) => w.providers.map((p) => p.name)))].sort();
  return names.map((provider) => {
    const rows: ProviderOnWorker[] = workers.map((w) => {
      const p: ProviderReport | undefined = w.providers.find((x) => x.name === provider);
      if (!p) return { worker: w.host, up: w.up, state: 'missing' };
      return { worker: w.host, up: w.up, state: p.valid ? 'valid' : 'invalid', reason: p.reason, checksum: p.checksum };
    });
    const live = rows.filter((r) => r.up);
    const problems: string[] = [];
    for (const r of live) {
      if (r.state === 'missing') problems.push(`missing on ${r.worker}`);
      if (r.state === 'invalid') problems.push(`invalid on ${r.worker}: ${r.reason ?? 'no reason given'}`);
    }
    const sums = new Set(live.filter((r) => r.state !== 'missing').map((r) => r.checksum ?? ''));
    if (sums.size > 1) {
      problems.push(
        `checksums differ: ${live
          .filter((r) => r.state !== 'missing')
          .map((r) => `${r.worker}=${shortSum(r.checksum)}`)
          .join(', ')}`,
      );
    }
    return { provider, workers: rows, consistent: problems.length === 0, problems };
  });
}

/** The table and summary lines `storage diagnose` prints. */
export function formatDiagnosis(diags: readonly ProviderDiagnosis[]): string {
  if (diags.length === 0) return 'No worker reports ExtStorage providers.';
  const rows = diags.flatMap((d) => {
    const sums = new Map<string, number>();
    for (const w of d.workers) if (w.up && w.checksum) sums.set(w.checksum, (sums.get(w.checksum) ?? 0) + 1);
    return d.workers.map((w) => ({
      provider: d.provider,
      worker: w.worker,
      up: w.up ? 'up' : 'down',
      state: w.state,
      checksum: shortSum(w.checksum),
      detail: w.state === 'invalid' ? (w.reason ?? '') : w.up && w.checksum && sums.size > 1 ? 'checksum differs' : '',
    }));
  });
  const cols = ['provider', 'worker', 'up', 'state', 'checksum', 'detail'] as const;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (vals: readonly string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const summary = diags.map((d) => `${d.provider}: ${d.consistent ? 'OK' : `MISMATCH — ${d.problems.join('; ')}`}`);
  return [line(cols), ...rows.map((r) => line(cols.map((c) => r[c]))), '', ...summary].join('\n');
}
