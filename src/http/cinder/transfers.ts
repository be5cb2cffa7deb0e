import { atLeast, type ApiVersion } from '../../domain/microversion';
import type { DbTransferRow } from '../../db/transfers';
import { isoCinder } from '../../domain/time';
import type { TransferService, CreatedTransfer } from '../../services/transfers';
import { accepted, ok, type RouteRequest, type RouteTable } from '../shared/http';
import { listRules } from './listRules';
import type { CinderBody } from './cinderRoutes';

/**
 * Cinder's transfer views (`api/views/transfers.py`, and v3's for
 * `volume-transfers`: `no_snapshots` from 3.55, the projects and `accepted`
 * from 3.57). Pending transfers only are kept, so `accepted` is false.
 */
function summary(r: RouteRequest, collection: string, t: DbTransferRow) {
  return { id: t.id, name: t.display_name, volume_id: t.volume_id, links: r.links.resource(collection, t.id) };
}

function detail(r: RouteRequest, collection: string, t: DbTransferRow, v3: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { ...summary(r, collection, t), created_at: isoCinder(t.created_at) };
  if (v3) Object.assign(body, v3Keys(r.ctx.version, t));
  return body;
}

function v3Keys(version: ApiVersion, t: DbTransferRow): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  if (atLeast(version, 3, 55)) keys.no_snapshots = t.no_snapshots;
  if (atLeast(version, 3, 57))
    Object.assign(keys, { destination_project_id: null, source_project_id: t.source_project_id, accepted: false });
  return keys;
}

/** One set of handlers per path: `os-volume-transfer` (every version) and `volume-transfers` (3.55+). */
function routes(transfers: TransferService, prefix: string, collection: string, v3: boolean): RouteTable {
  const created = (r: RouteRequest, t: CreatedTransfer) => ({ transfer: { ...detail(r, collection, t, v3), auth_key: t.auth_key } });
  return {
    [`list${prefix}`]: async (r) =>
      ok({ transfers: (await transfers.list(r.ctx, r.query, listRules(r.ctx.version))).map((t) => summary(r, collection, t)) }),
    [`list${prefix}Detail`]: async (r) =>
      ok({ transfers: (await transfers.list(r.ctx, r.query, listRules(r.ctx.version))).map((t) => detail(r, collection, t, v3)) }),
    [`create${prefix}`]: async (r: RouteRequest<CinderBody<'createVolumeTransfers' | 'createVolumeTransfersLegacy'>>) =>
      accepted(created(r, await transfers.create(r.ctx, r.body.transfer))),
    [`show${prefix}`]: async (r) => ok({ transfer: detail(r, collection, await transfers.get(r.ctx, r.params.transfer_id!), v3) }),
    [`delete${prefix}`]: async (r) => {
      await transfers.delete(r.ctx, r.params.transfer_id!);
      return accepted();
    },
    [`accept${prefix}`]: async (r: RouteRequest<CinderBody<'acceptVolumeTransfers' | 'acceptVolumeTransfersLegacy'>>) =>
      accepted({ transfer: summary(r, collection, await transfers.accept(r.ctx, r.params.transfer_id!, r.body.accept.auth_key)) }),
  };
}

export function transferRoutes(transfers: TransferService): RouteTable {
  return {
    ...routes(transfers, 'VolumeTransfersLegacy', 'os-volume-transfer', false),
    ...routes(transfers, 'VolumeTransfers', 'volume-transfers', true),
  };
}
