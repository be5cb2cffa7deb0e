import { atLeast } from '../../domain/microversion';
import type { ListedVolume } from '../../db/volumes';
import { parseBool, type Paging } from '../../services/listQuery';
import type { VolumeService } from '../../services/volumes/volumes';
import { accepted, ok, type RouteRequest, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';
import { volumeDetail, volumeSummary } from './views/volume';
import { listRules } from './listRules';

/** Volumes: CRUD, lists, summary and metadata. */
export function volumeRoutes(volumes: VolumeService): RouteTable {
  const detail = (r: RouteRequest, v: ListedVolume, extended = true) =>
    volumeDetail(v, { version: r.ctx.version, isAdmin: r.ctx.isAdmin, links: r.links, extended });

  const page = (
    r: RouteRequest,
    { items, paging, count }: { items: Array<{ id: string }>; paging: Paging; count?: number },
    volumesBody: unknown[],
  ) => {
    const body: Record<string, unknown> = { volumes: volumesBody };
    const last = items[items.length - 1];
    // Cinder links the next page when the page is full.
    if (last && items.length >= paging.limit) body.volumes_links = r.links.next(r.apiPath, r.query, last.id);
    if (count !== undefined) body.count = count;
    return ok(body);
  };

  const flag = (v: unknown) => typeof v === 'string' && parseBool(v, 'flag');
  const rules = (r: RouteRequest) => ({ ...listRules(r.ctx.version), strictBootable: atLeast(r.ctx.version, 3, 2) });

  return {
    listVolumes: async (r) => {
      const listed = await volumes.list(r.ctx, r.query, false, rules(r));
      return page(
        r,
        listed,
        listed.items.map((v) => volumeSummary(v, r.links)),
      );
    },
    listVolumesDetail: async (r) => {
      const listed = await volumes.list(r.ctx, r.query, true, rules(r));
      return page(
        r,
        listed,
        listed.items.map((v) => detail(r, v)),
      );
    },
    getVolumesSummary: async (r) =>
      ok({
        'volume-summary': await volumes.summary(r.ctx, r.query.all_tenants !== undefined, { metadata: atLeast(r.ctx.version, 3, 36) }),
      }),
    showVolume: async (r) => ok({ volume: detail(r, await volumes.get(r.ctx, r.params.volume_id!)) }),
    createVolume: async (r) => {
      const v = await volumes.create(r.ctx, r.body.volume, { fromBackup: atLeast(r.ctx.version, 3, 47) });
      return accepted({ volume: detail(r, v, false) });
    },
    updateVolume: async (r) => {
      const v = await volumes.update(r.ctx, r.params.volume_id!, r.body.volume);
      return ok({ volume: detail(r, v, false) });
    },
    deleteVolume: async (r) => {
      await volumes.delete(r.ctx, r.params.volume_id!, {
        cascade: flag(r.query.cascade),
        force: atLeast(r.ctx.version, 3, 23) && flag(r.query.force),
      });
      return accepted();
    },
    listVolumeMetadata: async (r) => ok({ metadata: await volumes.getMetadata(r.ctx, r.params.volume_id!) }),
    createVolumeMetadata: async (r) =>
      ok({ metadata: await volumes.setMetadata(r.ctx, r.params.volume_id!, r.body.metadata ?? {}, false) }),
    replaceVolumeMetadata: async (r) =>
      ok({ metadata: await volumes.setMetadata(r.ctx, r.params.volume_id!, r.body.metadata ?? {}, true) }),
    showVolumeMetadataItem: async (r) => ok({ meta: await volumes.getMetadataItem(r.ctx, r.params.volume_id!, r.params.key!) }),
    updateVolumeMetadataItem: async (r) =>
      ok({ meta: await volumes.setMetadataItem(r.ctx, r.params.volume_id!, r.params.key!, r.body.meta ?? {}) }),
    deleteVolumeMetadataItem: async (r) => {
      await volumes.deleteMetadataItem(r.ctx, r.params.volume_id!, r.params.key!);
      return ok(undefined);
    },
  } satisfies CinderRoutes;
}
