#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig } from '../config';
import { makeLogger, startRuntime, type RuntimeRoles } from '../runtime';
import { isApiChild, superviseApiProcesses } from './apiProcesses';

/** `cairn all-in-one | api | worker --backend NAME | backup-worker`: one entry point, four roles. */
async function run(roles: (backends: string[]) => RuntimeRoles, name: string): Promise<void> {
  const config = loadConfig();
  const log = makeLogger(config, `cairn-${name}`);
  const rt = await startRuntime(config, roles(config.backends.map((b) => b.name)), log);
  log.info(
    {
      url: rt.url,
      ...(rt.statusUrl ? { statusUrl: rt.statusUrl } : {}),
      database: config.databaseUrl ? 'postgresql' : `pglite:${config.dataDir}`,
      transport: config.amqpUrl ? 'amqp' : 'in-process',
    },
    `cairn ${name} started`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    rt.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command('cairn').description('OpenStack-compatible block storage');
program
  .command('all-in-one')
  .description('API, relay, sweeper and every backend worker in one process (npm start)')
  .action(() => run((all) => ({ api: true, workerBackends: all, migrate: true, backupWorker: true }), 'all-in-one'));
program
  .command('api')
  .description('the HTTP API with the task relay and sweeper')
  .option('--processes <n>', 'API processes sharing the port (PostgreSQL only)', '1')
  .action((opts: { processes: string }) => {
    const n = Number(opts.processes);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--processes must be a whole number from 1, got ${opts.processes}`);
    if (n > 1 && !isApiChild()) {
      const config = loadConfig();
      return superviseApiProcesses(config, n, makeLogger(config, 'cairn-api'));
    }
    return run(() => ({ api: true, workerBackends: [], migrate: !isApiChild() }), 'api');
  });
program
  .command('worker')
  .description("a backend's task worker")
  .option('--backend <name...>', 'backends to serve (default: all configured)')
  .action((opts: { backend?: string[] }) => run((all) => ({ api: false, workerBackends: opts.backend ?? all, migrate: false }), 'worker'));

program
  .command('backup-worker')
  .description("the backup service: backups and restores of every backend's volumes into CAIRN_BACKUP_DIR")
  .action(() => run(() => ({ api: false, workerBackends: [], migrate: false, backupWorker: true }), 'backup-worker'));

program.parseAsync().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
