import { badRequest } from '../../domain/errors';
import type { SnapshotService } from '../../services/snapshots/snapshots';
import { accepted, type Reply, type RouteRequest, type RouteTable } from '../shared/http';
import type { CinderRoutes, CinderSchema } from './cinderRoutes';

type SnapshotActionBody = CinderSchema<'SnapshotActionRequest'>;
/** One `POST /snapshots/{id}/action` verb, given its own body part (A). */
export type SnapshotActionHandler<A = unknown> = (r: RouteRequest<SnapshotActionBody>, snapshotId: string, args: A) => Promise<Reply>;
/** The verbs by name, each with its part's type from the document (which validated it). */
export type SnapshotActionTable = { [K in keyof SnapshotActionBody]?: SnapshotActionHandler<Exclude<SnapshotActionBody[K], undefined>> };

/**
 * The actions on snapshots, each answering 202: Cinder's admin ones
 * (`SnapshotAdminController`, `SnapshotUnmanageController`) and
 * `os-update_snapshot_status` (`SnapshotActionsController`, for members too).
 */
export function snapshotAdminActions(snapshots: SnapshotService): SnapshotActionTable {
  return {
    'os-reset_status': async (r, id, args) => {
      await snapshots.resetStatus(r.ctx, id, args?.status);
      return accepted();
    },
    'os-force_delete': async (r, id) => {
      await snapshots.delete(r.ctx, id, true);
      return accepted();
    },
    'os-unmanage': async (r, id) => {
      await snapshots.unmanage(r.ctx, id);
      return accepted();
    },
    'os-update_snapshot_status': async (r, id, args) => {
      await snapshots.updateStatus(r.ctx, id, args);
      return accepted();
    },
  };
}

/**
 * Dispatches the snapshot action endpoint by the body's single key, as
 * volumeActions.ts does for volumes; an unknown action gets Cinder's text.
 */
export function snapshotActionRoutes(...tables: SnapshotActionTable[]): RouteTable {
  const actions: SnapshotActionTable = Object.assign({}, ...tables);
  return {
    snapshotAction: async (r) => {
      const name = Object.keys(r.body ?? {})[0] ?? '';
      // Own keys only: an action named like an Object.prototype member (`constructor`) is unknown, not a function.
      const handler = Object.hasOwn(actions, name) ? (actions as Record<string, SnapshotActionHandler>)[name] : undefined;
      if (!handler) {
        throw badRequest(`There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
      }
      return handler(r, r.params.snapshot_id!, (r.body as Record<string, unknown>)[name]);
    },
  } satisfies CinderRoutes;
}
