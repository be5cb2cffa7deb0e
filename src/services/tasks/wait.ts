import { OutcomeUnread } from '../../domain/errors';
import { TaskState } from '../../domain/status';
import type { Db } from '../../db/connection';
import * as tasksDb from '../../db/tasks';
import type { DbTaskRow } from '../../db/tasks';

/**
 * Waits for a task's outcome: how a request that Cinder answers only after
 * its volume service replied (attachment update, os-attach…) keeps that
 * contract while the work itself goes through the outbox like any other.
 * Polls with a growing interval; gives up after `timeoutMs` with a 503 to
 * retry later (`OutcomeUnread`: the task was accepted and carries on, so
 * never a 500).
 */
export async function awaitTask(db: Db, taskId: string, timeoutMs = 60_000): Promise<DbTaskRow> {
  const deadline = Date.now() + timeoutMs;
  let pause = 2;
  for (;;) {
    const task = await tasksDb.find(db, taskId);
    if (task && (task.state === TaskState.done || task.state === TaskState.failed)) return task;
    if (Date.now() > deadline) {
      throw new OutcomeUnread(undefined, `the storage backend did not answer in ${Math.round(timeoutMs / 1000)} s; the operation goes on`);
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(50, pause * 2);
  }
}
