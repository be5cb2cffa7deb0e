import { ApiError } from '../domain/errors';
import { TaskState } from '../domain/status';
import type { Db } from '../db/connection';
import * as tasksDb from '../db/tasks';
import type { DbTaskRow } from '../db/tasks';

/**
 * Waits for a task's outcome: how a request that Cinder answers only after
 * its volume service replied (attachment update, os-attach…) keeps that
 * contract while the work itself goes through the outbox like any other.
 * Polls with a growing interval; gives up with a 500 after `timeoutMs`
 * (the task itself carries on).
 */
export async function awaitTask(db: Db, taskId: string, timeoutMs = 60_000): Promise<DbTaskRow> {
  const deadline = Date.now() + timeoutMs;
  let pause = 2;
  for (;;) {
    const task = await tasksDb.find(db, taskId);
    if (task && (task.state === TaskState.done || task.state === TaskState.failed)) return task;
    if (Date.now() > deadline) {
      throw new ApiError(500, 'computeFault', `The storage backend did not answer in ${Math.round(timeoutMs / 1000)} s; the operation goes on.`);
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(50, pause * 2);
  }
}
