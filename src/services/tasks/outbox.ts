import { randomUUID } from 'node:crypto';
import type { Tx } from '../../db/connection';
import * as tasks from '../../db/tasks';
import type { RequestContext } from '../../domain/context';
import type { Config } from '../../config';
import { volumeDriverPayload } from '../backends/extstorage';
import { TaskKind } from '../../domain/status';

/** Task kinds: `<resource>.<operation>`; workers dispatch on these. */

/**
 * What a task's storage work touches, so that tasks of one volume run one
 * at a time in the order they were accepted (`tasks.resource_key`): the
 * volume for its own tasks, the snapshot's volume for snapshot tasks, the
 * source volume for a clone and the snapshot's volume for a volume made
 * from a snapshot (the copy reads it while an attach could move it, an
 * extend grow it, a delete remove it).
 */
export function resourceKey(kind: string, resource: { type: string; id: string }, payload: Record<string, unknown>): string | null {
  const source = payload.source as { kind?: string; id?: string; volume_id?: string } | undefined;
  if (kind === TaskKind.volumeCreate && source?.kind === 'volume' && source.id) return `volume:${source.id}`;
  if (kind === TaskKind.volumeCreate && source?.kind === 'snapshot' && source.volume_id) return `volume:${source.volume_id}`;
  if (resource.type === 'snapshot' && typeof payload.volume_id === 'string') return `volume:${payload.volume_id}`;
  if (resource.type === 'volume') return `volume:${resource.id}`;
  if (resource.type === 'server') return `server:${resource.id}`;
  return null;
}

/**
 * Writes a task row in the caller's transaction (the outbox): it becomes
 * visible to the relay exactly when the state change that needs it commits.
 */
export async function enqueue(
  trx: Tx,
  config: Config,
  ctx: Pick<RequestContext, 'requestId' | 'projectId'> | undefined,
  kind: TaskKind,
  resource: { type: string; id: string; backend: string },
  payload: Record<string, unknown> = {},
): Promise<string> {
  const id = randomUUID();
  // ExtStorage volumes: every task carries the provider and its parameters (empty for other backends).
  const driverPayload = resource.type === 'volume' ? await volumeDriverPayload(trx, config, resource.backend, resource.id) : {};
  await tasks.insert(trx, {
    id,
    kind,
    resource_type: resource.type,
    resource_id: resource.id,
    backend: resource.backend,
    payload: { ...driverPayload, ...payload },
    resource_key: resourceKey(kind, resource, payload),
    max_attempts: config.taskMaxAttempts,
    request_id: ctx?.requestId ?? null,
    project_id: ctx?.projectId ?? null,
  });
  return id;
}
