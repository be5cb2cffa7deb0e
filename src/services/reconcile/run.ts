/**
 * `cairn-manage reconcile [--repair]`, the moving parts: the disk side comes
 * from each backend's own worker, as a `backend.reconcile` task through the
 * normal outbox (a worker of that backend scans its storage directory and
 * stores the scan on the task row); the database side is read here, after
 * the scan, so nothing created meanwhile looks like an orphan. A repair is
 * a second task carrying the actions; the worker re-checks each on disk
 * before acting, and its commit writes the database side (reconcileOutcomes).
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../domain/errors';
import { TaskState, TaskKind } from '../../domain/status';
import * as consistencyDb from '../../db/consistency';
import * as volumesDb from '../../db/volumes';
import type { Conn } from '../../db/connection';
import type { ServiceDeps } from '../deps';
import { compare, namesInScan, type BackendReport, type DbView, type RepairAction, type ScanReport } from './reconcile';
import { enqueue } from '../tasks/outbox';
import { awaitTask } from '../tasks/wait';

/** The worker's answer to a repair: one outcome per action, in order. */
export interface RepairOutcome {
  readonly done: boolean;
  /** What happened: the quarantine path, the location found, or why it was skipped. */
  readonly detail: string;
}

export interface ReconcileOptions {
  readonly repair: boolean;
  /** How long to wait for each backend's worker. */
  readonly timeoutMs: number;
}

/** Asks a worker of `backend` (scan, or repair with `actions`) and waits for its answer. */
async function ask<T>(deps: ServiceDeps, backend: string, payload: Record<string, unknown>, timeoutMs: number): Promise<T> {
  const id = await deps.db.transaction((trx) =>
    enqueue(trx, deps.config, undefined, TaskKind.backendReconcile, { type: 'reconcile', id: randomUUID(), backend }, payload),
  );
  deps.notifier.tasksWritten();
  const task = await awaitTask(deps.db, id, timeoutMs).catch((err: unknown) => {
    if (err instanceof ApiError)
      throw new Error(
        `no worker of backend ${backend} answered in ${Math.round(timeoutMs / 1000)} s (is one running, and an API to relay the task?)`,
      );
    throw err;
  });
  if (task.state === TaskState.failed) throw new Error(`the worker failed: ${task.last_error ?? 'no reason given'}`);
  const result = await consistencyDb.taskResult<T>(deps.db, id);
  if (result === undefined) throw new Error('the worker stored no result');
  return result;
}

/** The database rows the scan names, read now. */
async function dbView(conn: Conn, backend: string, scan: ScanReport): Promise<DbView> {
  const names = namesInScan(scan);
  const volumes = new Map((await volumesDb.listAll(conn, backend)).map((v) => [v.id, { status: v.status, location: v.provider_location }]));
  const elsewhere = new Map(
    [
      ...(await consistencyDb.volumesByIds(
        conn,
        names.volumes.filter((id) => !volumes.has(id)),
      )),
    ].filter(([, b]) => b !== backend),
  );
  return {
    volumes,
    elsewhere,
    snapshots: await consistencyDb.existingSnapshotIds(conn, names.snapshots),
    servers: await consistencyDb.serversByIds(conn, names.servers),
  };
}

/** One backend: scan, compare, and with `repair` fix what can be fixed. Never throws: a failure is the report's `error`. */
export async function reconcileBackend(deps: ServiceDeps, backend: string, opts: ReconcileOptions): Promise<BackendReport> {
  try {
    const { scan } = await ask<{ scan: ScanReport }>(deps, backend, { repair: false }, opts.timeoutMs);
    const differences = compare(scan, await dbView(deps.db, backend, scan));
    const todo = differences.filter((d) => d.repair);
    if (!opts.repair || todo.length === 0) return { backend, differences };
    // Folders last: the files quarantined first may be what kept one from being empty.
    todo.sort((a, b) => Number(a.kind === 'stale_server_folder') - Number(b.kind === 'stale_server_folder'));
    const actions: RepairAction[] = todo.map((d) => d.repair!);
    const { outcomes } = await ask<{ outcomes: RepairOutcome[] }>(deps, backend, { repair: true, actions }, opts.timeoutMs);
    todo.forEach((d, i) => {
      const o = outcomes[i];
      d.repaired = o?.done ?? false;
      d.action = o ? `${o.done ? '' : 'skipped: '}${o.detail}` : 'skipped: no answer';
    });
    return { backend, differences };
  } catch (err) {
    return { backend, differences: [], error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Every configured file backend (or the named ones), one after the other.
 * ExtStorage backends keep their data in the providers' own storage, which
 * cairn cannot list, so they are checked only when named (and then refused).
 */
export async function reconcile(
  deps: ServiceDeps,
  opts: ReconcileOptions & { backends?: readonly string[]; onProgress?: (done: number, total: number, backend: string) => void },
): Promise<BackendReport[]> {
  const names = opts.backends?.length ? opts.backends : deps.config.backends.filter((b) => b.driver === 'file').map((b) => b.name);
  const out: BackendReport[] = [];
  for (const name of names) {
    opts.onProgress?.(out.length, names.length, name);
    const b = deps.config.backends.find((x) => x.name === name);
    if (!b) out.push({ backend: name, differences: [], error: 'no such backend is configured' });
    else if (b.driver !== 'file')
      out.push({ backend: name, differences: [], error: `reconcile covers file backends; ${name} is ${b.driver}` });
    else out.push(await reconcileBackend(deps, name, opts));
  }
  opts.onProgress?.(out.length, names.length, '');
  return out;
}
