import type { Command } from 'commander';
import { loadConfig } from '../config';
import type { Db } from '../db/connection';
import { workerProviders, type ProviderReport } from '../services/backends/extstorage';
import { diagnoseWorkers, formatDiagnosis, shortSum } from '../services/backends/storageDiagnose';
import { diagnoseProviders } from '../workers/drivers/extstorageProviders';

/**
 * `cairn-manage storage diagnose | info PROVIDER` (Ganeti's `gnt-storage`):
 * from what the workers report in their heartbeats, so the command runs
 * anywhere the database is reachable.
 */
export function registerStorageCommands(program: Command, withDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>): void {
  const storage = program.command('storage').description('ExtStorage providers on the workers');

  storage
    .command('diagnose')
    .description('every provider on every worker: valid/invalid/missing and checksum mismatches; exit 1 if any')
    .option('--json', 'the diagnosis as JSON')
    .action((o: { json?: boolean }) =>
      withDb(async (d) => {
        const diags = diagnoseWorkers(await workerProviders(d, loadConfig()));
        console.log(o.json ? JSON.stringify(diags, null, 2) : formatDiagnosis(diags));
        if (diags.some((x) => !x.consistent)) process.exitCode = 1;
      }),
    );

  storage
    .command('info')
    .argument('<provider>')
    .description("a provider's parameters (its parameters.list), as the workers report it")
    .option('--json', 'the copies (one per checksum) as JSON')
    .action((name: string, o: { json?: boolean }) =>
      withDb(async (d) => {
        const config = loadConfig();
        const seen = (await workerProviders(d, config)).flatMap((w) =>
          w.providers.filter((p) => p.name === name).map((p) => ({ worker: w.host, p })),
        );
        let source = 'reported by workers';
        if (seen.length === 0) {
          // No worker has it: this host's own search path may (e.g. before any worker started).
          const local = (await diagnoseProviders(config.extstorage.searchPath)).find((p) => p.name === name);
          if (!local) {
            console.error(`provider ${name}: no worker reports it, and it is not in ${config.extstorage.searchPath.join(':')}`);
            process.exitCode = 1;
            return;
          }
          seen.push({ worker: '(this host)', p: local as ProviderReport });
          source = `found in ${config.extstorage.searchPath.join(':')}`;
        }
        // One block per distinct copy (checksum): copies that differ may declare different parameters.
        const copies = new Map<string, { p: ProviderReport; workers: string[] }>();
        for (const s of seen) {
          const key = `${s.p.valid}:${s.p.checksum ?? ''}`;
          copies.set(key, { p: s.p, workers: [...(copies.get(key)?.workers ?? []), s.worker] });
        }
        if (o.json) {
          console.log(
            JSON.stringify({ provider: name, source, copies: [...copies.values()].map(({ p, workers }) => ({ ...p, workers })) }, null, 2),
          );
          return;
        }
        const out = [`provider ${name} (${source})`];
        for (const { p, workers } of copies.values()) {
          out.push(
            '',
            `  ${p.valid ? 'valid' : 'invalid'} on ${workers.join(', ')}${p.checksum ? `  checksum ${shortSum(p.checksum)}` : ''}`,
          );
          if (!p.valid) {
            out.push(`  reason: ${p.reason ?? 'none given'}`);
            continue;
          }
          const params = p.parameters ?? [];
          if (params.length === 0) out.push('  parameters: none');
          const w = Math.max(0, ...params.map((x) => x.name.length));
          for (const x of params) out.push(`  ${x.name.padEnd(w)}  ${x.description}`.trimEnd());
        }
        console.log(out.join('\n'));
      }),
    );
}
