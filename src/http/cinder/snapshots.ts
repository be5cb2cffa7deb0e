import type { DbSnapshotRow } from '../../db/snapshots';
import { atLeast } from '../../domain/microversion';
import type { SnapshotService } from '../../services/snapshots/snapshots';
import { accepted, ok, type RouteRequest, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';
import { snapshotDetail, snapshotSummary } from './views/snapshot';
import { listRules } from './listRules';

/** Snapshots: CRUD, lists and metadata (actions: snapshotActions.ts). */
export function snapshotRoutes(snapshots: SnapshotService): RouteTable {
  const detail = (r: RouteRequest, s: DbSnapshotRow, extended: boolean) => snapshotDetail(s, { version: r.ctx.version, extended });

  const list = (full: boolean) => async (r: RouteRequest) => {
    const { items, paging, count } = await snapshots.list(r.ctx, r.query, listRules(r.ctx.version));
    const body: Record<string, unknown> = { snapshots: items.map((s) => (full ? detail(r, s, true) : snapshotSummary(s))) };
    const last = items[items.length - 1];
    // Cinder links the next page when the page is full.
    if (last && items.length >= paging.limit) body.snapshots_links = r.links.next(r.apiPath, r.query, last.id);
    if (count !== undefined) body.count = count;
    return ok(body);
  };

  return {
    listSnapshots: list(false),
    listSnapshotsDetail: list(true),
    showSnapshot: async (r) => ok({ snapshot: detail(r, await snapshots.get(r.ctx, r.params.snapshot_id!), true) }),
    createSnapshot: async (r) => {
      const s = await snapshots.create(r.ctx, r.body.snapshot, { allowInUse: atLeast(r.ctx.version, 3, 66) });
      return accepted({ snapshot: detail(r, s, false) });
    },
    updateSnapshot: async (r) => ok({ snapshot: detail(r, await snapshots.update(r.ctx, r.params.snapshot_id!, r.body.snapshot), false) }),
    deleteSnapshot: async (r) => {
      await snapshots.delete(r.ctx, r.params.snapshot_id!);
      return accepted();
    },
    listSnapshotMetadata: async (r) => ok({ metadata: await snapshots.getMetadata(r.ctx, r.params.snapshot_id!) }),
    createSnapshotMetadata: async (r) =>
      ok({ metadata: await snapshots.setMetadata(r.ctx, r.params.snapshot_id!, r.body.metadata ?? {}, false) }),
    replaceSnapshotMetadata: async (r) =>
      ok({ metadata: await snapshots.setMetadata(r.ctx, r.params.snapshot_id!, r.body.metadata ?? {}, true) }),
    showSnapshotMetadataItem: async (r) => ok({ meta: await snapshots.getMetadataItem(r.ctx, r.params.snapshot_id!, r.params.key!) }),
    updateSnapshotMetadataItem: async (r) =>
      ok({ meta: await snapshots.setMetadataItem(r.ctx, r.params.snapshot_id!, r.params.key!, r.body.meta ?? {}) }),
    deleteSnapshotMetadataItem: async (r) => {
      await snapshots.deleteMetadataItem(r.ctx, r.params.snapshot_id!, r.params.key!);
      return ok(undefined);
    },
  } satisfies CinderRoutes;
}
