import type { Command } from 'commander';
import { loadConfig } from '../config';
import type { Db } from '../db/connection';
import { formatReconcile, reconcileExitCode } from '../services/reconcile/reconcile';
import { reconcile } from '../services/reconcile/run';
import { progress, type Progress } from './progress';

/**
 * `cairn-manage reconcile [--repair]`: the database against each backend's
 * storage, as the backend's own worker sees it (services/reconcileRun.ts).
 * The tasks go through the outbox, so a running `cairn api` (its relay) and
 * a worker per backend are needed. Exit 0: consistent (or all repaired);
 * 1: differences left, or a backend that could not be checked.
 */
export function registerReconcileCommands(program: Command, withDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>): void {
  program
    .command('reconcile')
    .description('compare the database with what each backend holds on disk; --repair fixes what it safely can (never deletes data)')
    .option(
      '--repair',
      'set volumes whose data is missing to error, record moved locations, move unknown files to <dir>/.orphans/, remove empty folders of deleted servers',
    )
    .option('--backend <name>', 'only this backend (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--timeout <seconds>', "how long to wait for each backend's worker", '60')
    .option('--json', 'the report as JSON')
    .action((o: { repair?: boolean; backend: string[]; timeout: string; json?: boolean }) =>
      withDb(async (db) => {
        const config = loadConfig();
        // One step per backend (scan, compare, repair), on stderr: stdout is the report.
        let bar: Progress | undefined;
        const reports = await reconcile(
          { db, config, notifier: { tasksWritten: () => undefined } },
          {
            repair: Boolean(o.repair),
            timeoutMs: Number(o.timeout) * 1000,
            backends: o.backend,
            onProgress: (done, total, backend) => {
              bar ??= progress({ label: o.repair ? 'reconcile --repair' : 'reconcile', total, unit: 'steps' });
              bar.update(done, backend ? `backend ${backend}` : 'done');
            },
          },
        );
        bar?.stop();
        console.log(o.json ? JSON.stringify(reports, null, 2) : formatReconcile(reports));
        process.exitCode = reconcileExitCode(reports);
      }),
    );
}
