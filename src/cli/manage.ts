#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig } from '../config';
import { migrateLatest, openDb, type Db } from '../db/connection';
import * as volumesDb from '../db/volumes';
import { isoCinder } from '../domain/time';
import { ServiceRegistry } from '../services/backends/serviceRegistry';
import { formatVerifyReport, verifyQuotas } from '../services/quotas/verify';
import { purgeOld } from '../services/retention';
import { driverFor } from '../workers/drivers';
import { registerStorageCommands } from './storageCommands';
import { registerServerCommands } from './serverCommands';
import { registerReconcileCommands } from './reconcileCommands';
import { registerImageCommands } from './imageCommands';

/**
 * `cairn-manage`: operators' commands against the configured database. Each
 * brings the schema up to date first, as `cairn` does at start, so the first
 * command on a fresh data directory works (migrating is a no-op when current).
 */
async function withDb<T>(fn: (db: Db) => Promise<T>, migrate = true): Promise<T> {
  const db = openDb(loadConfig(), 2);
  try {
    if (migrate) await migrateLatest(db);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

function table(rows: Array<Record<string, unknown>>, cols: string[]): string {
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

const program = new Command('cairn-manage').description('cairn operator commands');

const db = program.command('db').description('database schema');
db.command('migrate')
  .description('apply pending migrations')
  .action(() =>
    withDb(async (d) => {
      const done = await migrateLatest(d);
      console.log(done.length ? `applied: ${done.join(', ')}` : 'schema is up to date');
    }, false),
  );

db.command('purge')
  .argument('<age_in_days>', 'rows that ended more than this many days ago go (0: all that have ended)')
  .description('delete finished tasks and expired user messages, as cinder-manage db purge deletes old rows')
  .option('--json', 'what went, as JSON')
  .action((age: string, o: { json?: boolean }) =>
    withDb(async (d) => {
      const days = Number(age);
      if (!/^\d+$/.test(age) || !Number.isSafeInteger(days)) {
        console.error(`age_in_days must be a whole number of days, got ${age}`);
        process.exitCode = 2;
        return;
      }
      const purged = await purgeOld(d, { taskAgeDays: days, messageAgeDays: days });
      console.log(o.json ? JSON.stringify(purged) : `purged ${purged.tasks} finished task(s), ${purged.messages} expired message(s)`);
    }),
  );

const volume = program.command('volume').description('volumes');
volume
  .command('list')
  .description('every volume of every project')
  .option('--backend <name>', 'only this backend')
  .option('--json', 'the volumes as JSON')
  .action((o: { backend?: string; json?: boolean }) =>
    withDb(async (d) => {
      const rows = await volumesDb.listAll(d, o.backend);
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      console.log(
        table(
          rows.map((v) => ({ ...v, created_at: isoCinder(v.created_at) })),
          ['id', 'project_id', 'display_name', 'size', 'status', 'attach_status', 'backend', 'created_at'],
        ),
      );
    }),
  );
volume
  .command('info')
  .argument('<id>')
  .description('the database record and what the driver sees on disk')
  .action((id: string) =>
    withDb(async (d) => {
      const v = await volumesDb.find(d, id, { projectId: undefined });
      if (!v) {
        console.error(`volume ${id} not found`);
        process.exitCode = 1;
        return;
      }
      const backend = loadConfig().backends.find((b) => b.name === v.backend);
      const disk = backend ? await driverFor(backend).inspect({ id: v.id, location: v.provider_location }) : undefined;
      console.log(JSON.stringify({ volume: v, disk: disk ?? `backend ${v.backend} is not configured here` }, null, 2));
    }),
  );

program
  .command('service')
  .description('services')
  .command('list')
  .description('API and worker processes with up/down')
  .option('--json', 'the services as JSON')
  .action((o: { json?: boolean }) =>
    withDb(async (d) => {
      const rows = await new ServiceRegistry({ db: d, config: loadConfig(), notifier: { tasksWritten: () => undefined } }).list(undefined);
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      console.log(
        table(
          rows.map((s) => ({ ...s, state: s.up ? 'up' : 'down', heartbeat_at: isoCinder(s.heartbeat_at) })),
          ['binary', 'host', 'zone', 'state', 'heartbeat_at'],
        ),
      );
    }),
  );

program
  .command('quota')
  .description('quotas')
  .command('verify')
  .description('recount usage from the resources, compare with limits and the enforcement path; exit 1 on a violation')
  .option('--project <id>', 'only this project')
  .option('--json', 'the report as JSON')
  .action((o: { project?: string; json?: boolean }) =>
    withDb(async (d) => {
      const report = await verifyQuotas(d, { projectId: o.project });
      console.log(o.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
      if (report.violations.length) process.exitCode = 1;
    }),
  );

registerStorageCommands(program, withDb);
registerServerCommands(program, withDb, table);
registerReconcileCommands(program, withDb);
registerImageCommands(program, withDb, table);

program.parseAsync().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
