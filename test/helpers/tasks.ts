import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/connection';
import * as tasksDb from '../../src/db/tasks';

/** A task of a volume's (`volume.extend`) for `backend`, pending, straight into the outbox; its id. */
export async function insertTask(db: Db, { resourceId = randomUUID(), backend = 'nowhere' } = {}): Promise<string> {
  const id = randomUUID();
  await tasksDb.insert(db, {
    id,
    kind: 'volume.extend',
    resource_type: 'volume',
    resource_id: resourceId,
    backend,
    payload: {},
    max_attempts: 5,
    request_id: null,
    project_id: null,
    resource_key: `volume:${resourceId}`,
  });
  return id;
}
