import type { Config } from '../config';
import type { Db } from '../db/connection';

/** Told after a commit that wrote tasks, so the relay publishes them now rather than at its next poll. */
export interface TaskNotifier {
  tasksWritten(): void;
}

/** What every service needs; injected so services never reach for globals. */
export interface ServiceDeps {
  readonly db: Db;
  readonly config: Config;
  readonly notifier: TaskNotifier;
}
