import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import * as messagesDb from '../db/messages';
import * as tasksDb from '../db/tasks';

const DAY_MS = 86_400_000;

export interface Purged {
  /** Finished tasks deleted. */
  readonly tasks: number;
  /** Expired user messages deleted. */
  readonly messages: number;
}

/**
 * What cairn keeps only for a while: the task outbox's finished rows (every operation leaves one; nothing reads
 * them once its request is answered) and user messages once expired (hidden from then on; Cinder reaps them too).
 * Rows that ended more than `ageDays` days before `now` go: tasks finished, messages expired. The API runs it
 * hourly with `CAIRN_TASK_RETENTION_DAYS` for tasks and no delay for messages; operators run it with
 * `cairn-manage db purge <age_in_days>`.
 */
export async function purgeOld(db: Db, o: { taskAgeDays: number; messageAgeDays: number; now?: Date }): Promise<Purged> {
  const now = (o.now ?? new Date()).getTime();
  return {
    tasks: await tasksDb.purgeFinished(db, new Date(now - o.taskAgeDays * DAY_MS)),
    messages: await messagesDb.purgeExpired(db, new Date(now - o.messageAgeDays * DAY_MS)),
  };
}

/**
 * Finished tasks older than the retention and expired messages, deleted a minute after start and hourly (purgeOld);
 * every API process does it (the deletes are idempotent). Returns the stop.
 */
export function purgeHourly(db: Db, taskRetentionDays: number, log: Logger): () => void {
  const run = () => {
    purgeOld(db, { taskAgeDays: taskRetentionDays, messageAgeDays: 0 })
      .then((p) => {
        if (p.tasks || p.messages) log.info(p, 'purged finished tasks and expired messages');
      })
      .catch((err) => log.warn({ err: (err as Error).message }, 'purge of finished tasks and expired messages failed'));
  };
  const first = setTimeout(run, 60_000);
  const hourly = setInterval(run, 3_600_000);
  first.unref();
  hourly.unref();
  return () => {
    clearTimeout(first);
    clearInterval(hourly);
  };
}
