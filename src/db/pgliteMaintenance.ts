import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Db } from './connection';

/** Whether openDb() gives this config the embedded PGlite (mirrors its choice). */
export const usesPglite = (config: Pick<Config, 'databaseUrl'>): boolean => !config.databaseUrl || config.databaseUrl === 'pglite://memory';

interface TableActivity {
  relname: string;
  reltuples: string | number;
  n_live_tup: string | number;
  n_dead_tup: string | number;
  n_mod_since_analyze: string | number;
  last_analyze: Date | string | null;
}

/**
 * PGlite runs PostgreSQL in single-user mode, which has no autovacuum: its
 * tables would never be analyzed (the planner then guesses, and a page of
 * `/volumes/detail` costs about three times as much) nor vacuumed (every
 * task's status updates leave dead rows behind). Every `intervalMs` this
 * does what autovacuum does with its default thresholds: VACUUM (ANALYZE) a
 * table once 50 + 20% of its rows are dead, ANALYZE it once 50 + 10% of its
 * rows changed since the last analyze. PGlite does not keep those activity
 * counters across restarts, so a table not analyzed since this process
 * opened the database is analyzed once too (its statistics may be missing or
 * stale: an index built over existing rows sets `reltuples` but no column
 * statistics, and the planner then takes the project's 10,000 volumes for 50).
 * Only tables that need it, so a quiet database costs one catalog query per
 * interval.
 */
export class PgliteMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs = 30_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.runOnce().catch((err) => this.log.warn({ err }, 'database maintenance failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  async runOnce(): Promise<void> {
    const { rows } = await this.db.raw<{ rows: TableActivity[] }>(
      `SELECT c.relname, c.reltuples, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, s.last_analyze
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid`,
    );
    for (const t of rows) {
      const size = Math.max(Number(t.reltuples), Number(t.n_live_tup));
      const vacuum = Number(t.n_dead_tup) > 50 + 0.2 * size;
      const analyze = t.last_analyze === null || Number(t.n_mod_since_analyze) > 50 + 0.1 * size;
      if (vacuum || analyze) await this.db.raw(`${vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE'} ??`, [t.relname]);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }
}
