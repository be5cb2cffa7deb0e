import { badRequest } from '../domain/errors';
import type { SnapshotService } from '../services/snapshots';
import { accepted, type Reply, type RouteRequest, type RouteTable } from './http';

/** One `POST /snapshots/{id}/action` verb, given its own body part. */
export type SnapshotActionHandler = (r: RouteRequest, snapshotId: string, args: any) => Promise<Reply>;
export type SnapshotActionTable = Record<string, SnapshotActionHandler>;

/** The admin actions on snapshots (Cinder's `SnapshotAdminController`); both answer 202. */
export function snapshotAdminActions(snapshots: SnapshotService): SnapshotActionTable {
  return {
    'os-reset_status': async (r, id, args) => { await snapshots.resetStatus(r.ctx, id, args?.status); return accepted(); },
    'os-force_delete': async (r, id) => { await snapshots.delete(r.ctx, id, true); return accepted(); },
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
      const handler = actions[name];
      if (!handler) {
        throw badRequest(`There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
      }
      return handler(r, r.params.snapshot_id!, r.body[name]);
    },
  };
}
