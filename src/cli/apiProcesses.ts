import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { migrateLatest, openDb } from '../db/connection';

/**
 * `cairn api --processes N`: N API processes sharing one listening port
 * (node:cluster; the primary hands connections out in turn). One Node
 * process uses one core for JavaScript; the API is stateless, so more
 * processes serve more requests, exactly as several `cairn api` behind a
 * balancer would. The primary only migrates the database (once, before any
 * child starts: knex refuses concurrent migrations) and replaces a child
 * that dies; SIGTERM/SIGINT stop the children, then the primary.
 *
 * PostgreSQL only: PGlite is one process's database.
 */
export async function superviseApiProcesses(config: Config, count: number, log: Logger): Promise<void> {
  if (!config.databaseUrl)
    throw new Error('--processes needs DATABASE_URL (PostgreSQL): the embedded PGlite database belongs to one process');
  const db = openDb(config);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  let stopping = false;
  const fork = () => cluster.fork({ CAIRN_API_MIGRATED: '1' });
  cluster.on('exit', (child, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ pid: child.process.pid, code, signal }, 'an API process exited; starting another');
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping the API processes');
    for (const child of Object.values(cluster.workers ?? {})) child?.process.kill('SIGTERM');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (let i = 0; i < count; i++) fork();
  log.info({ processes: count, port: config.port }, 'cairn api processes started');
}

/** In a child of `superviseApiProcesses`: serve, without migrating again. */
export const isApiChild = (): boolean => cluster.isWorker && process.env.CAIRN_API_MIGRATED === '1';
