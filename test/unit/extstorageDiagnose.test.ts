import { diagnoseWorkers, formatDiagnosis } from '../../src/services/backends/storageDiagnose';
import type { ProviderReport } from '../../src/services/backends/extstorage';

const sum = (c: string) => c.repeat(64);
const worker = (host: string, up: boolean, providers: ProviderReport[]) => ({ host, backend: 'ext', up, providers });

describe('storage diagnose', () => {
  it('is consistent when every live worker has the provider valid with one checksum', () => {
    const [d] = diagnoseWorkers([
      worker('a@ext', true, [{ name: 'filevol', valid: true, checksum: sum('1') }]),
      worker('b@ext', true, [{ name: 'filevol', valid: true, checksum: sum('1') }]),
    ]);
    expect(d).toMatchObject({ provider: 'filevol', consistent: true, problems: [] });
    expect(formatDiagnosis([d!])).toMatch(/^filevol: OK$/m);
  });

  it('reports differing checksums, invalid and missing copies per worker', () => {
    const diags = diagnoseWorkers([
      worker('a@ext', true, [
        { name: 'filevol', valid: true, checksum: sum('1') },
        { name: 'rec', valid: true, checksum: sum('3') },
      ]),
      worker('b@ext', true, [{ name: 'filevol', valid: true, checksum: sum('2') }]),
      worker('c@ext', true, [{ name: 'filevol', valid: false, reason: 'grow is missing', checksum: sum('1') }]),
    ]);
    expect(diags.map((d) => [d.provider, d.problems])).toEqual([
      ['filevol', ['invalid on c@ext: grow is missing', 'checksums differ: a@ext=111111111111, b@ext=222222222222, c@ext=111111111111']],
      ['rec', ['missing on b@ext', 'missing on c@ext']],
    ]);
    const text = formatDiagnosis(diags);
    expect(text).toMatch(/^filevol\s+b@ext\s+up\s+valid\s+222222222222\s+checksum differs$/m);
    expect(text).toMatch(/^rec\s+b@ext\s+up\s+missing$/m);
  });

  it('shows down workers without judging them: their report may be stale', () => {
    const [d] = diagnoseWorkers([
      worker('a@ext', true, [{ name: 'filevol', valid: true, checksum: sum('1') }]),
      worker('old@ext', false, [{ name: 'filevol', valid: true, checksum: sum('9') }]),
    ]);
    expect(d!.consistent).toBe(true);
    expect(formatDiagnosis([d!])).toMatch(/^filevol\s+old@ext\s+down\s+valid\s+999999999999$/m);
  });

  it('says so when no worker reports providers', () => {
    expect(formatDiagnosis(diagnoseWorkers([]))).toBe('No worker reports ExtStorage providers.');
  });
});
