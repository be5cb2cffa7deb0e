import { FLAVORS } from '../../domain/compute';
import { badRequest, notFound } from '../../domain/errors';
import { atLeast } from '../../domain/microversion';
import type { DbServerRow } from '../../db/servers';
import type { ComputeQuotaService } from '../../services/compute/quotas';
import type { ServerService } from '../../services/compute/servers';
import type { ServerVolumeService } from '../../services/compute/serverVolumes';
import { accepted, noContent, ok } from '../shared/http';
import type { ComputeRequest, ComputeRouteTable, ComputeRoutes } from './http';
import { computeExtraRoutes, type ComputeExtrasDeps } from './extras';
import { computeQuotaRoutes } from './quotas';
import { attachCreatedView, attachmentView, flavorDetail, flavorSummary, serverDetail, serverSummary } from './views';

const flavor = (id: string) => {
  const f = FLAVORS.find((x) => x.id === id);
  if (!f) throw notFound(`Flavor ${id} could not be found.`);
  return f;
};

/** Every operationId of api-spec/compute.yaml, bound to its handler. */
export function computeRoutes(
  servers: ServerService,
  volumes: ServerVolumeService,
  quotas: ComputeQuotaService,
  extras: Omit<ComputeExtrasDeps, 'servers'>,
): ComputeRouteTable {
  const actions = extras.actions;
  const page = async (r: ComputeRequest, path: string, view: (s: DbServerRow[]) => Promise<unknown[]>) => {
    const { servers: rows, limit } = await servers.list(r.ctx, r.query);
    const out: Record<string, unknown> = { servers: await view(rows) };
    // `_get_collection_links`: a full page (the asked limit, or the cap) has a next link.
    if (rows.length > 0 && rows.length === limit) {
      out.servers_links = r.links.next(path, r.query, rows[rows.length - 1]!.id);
    }
    return ok(out);
  };
  const detail = async (r: ComputeRequest, s: DbServerRow, groups = false) =>
    serverDetail(s, (await servers.mappings([s.id])).get(s.id) ?? [], r.ctx, r.links, groups);

  return {
    listServers: (r) => page(r, 'servers', async (rows) => rows.map((s) => serverSummary(s, r.links))),
    listServersDetail: (r) =>
      page(r, 'servers/detail', async (rows) => {
        const bdms = await servers.mappings(rows.map((s) => s.id));
        return rows.map((s) => serverDetail(s, bdms.get(s.id) ?? [], r.ctx, r.links));
      }),
    createServer: async (r) => {
      const { server, adminPass } = await servers.create(r.ctx, r.body.server, {
        requireNetworks: atLeast(r.ctx.version, 2, 37),
        multiattach: atLeast(r.ctx.version, 2, 60),
      });
      await actions.record(r.ctx, server.id, 'create');
      return {
        status: 202,
        headers: { Location: r.links.self('servers', server.id) },
        body: {
          server: {
            id: server.id,
            links: r.links.resource('servers', server.id),
            'OS-DCF:diskConfig': 'MANUAL',
            security_groups: r.body.server.security_groups ?? [{ name: 'default' }],
            adminPass,
          },
        },
      };
    },
    showServer: async (r) => ok({ server: await detail(r, await servers.get(r.ctx, r.params.server_id!), true) }),
    updateServer: async (r) => ok({ server: await detail(r, await servers.update(r.ctx, r.params.server_id!, r.body.server)) }),
    deleteServer: async (r) => {
      await servers.delete(r.ctx, r.params.server_id!);
      return noContent();
    },
    serverAction: async (r) => {
      // Nova dispatches on the body's key (`wsgi.Resource.get_method`); an unknown one is a 400.
      const action = Object.keys(r.body)[0]!;
      if (action === 'os-stop') await servers.stop(r.ctx, r.params.server_id!);
      else if (action === 'os-start') await servers.start(r.ctx, r.params.server_id!);
      else throw badRequest(`There is no such action: ${action}`);
      await actions.record(r.ctx, r.params.server_id!, action === 'os-stop' ? 'stop' : 'start');
      return accepted();
    },
    listVolumeAttachments: async (r) =>
      ok({
        volumeAttachments: (await volumes.list(r.ctx, r.params.server_id!, r.query, { strictQuery: atLeast(r.ctx.version, 2, 75) })).map(
          (b) => attachmentView(b, r.ctx),
        ),
      }),
    showVolumeAttachment: async (r) =>
      ok({ volumeAttachment: attachmentView(await volumes.show(r.ctx, r.params.server_id!, r.params.volume_id!), r.ctx) }),
    // 200, not 202: Nova's `create` has no @wsgi.response (its own TODO says so).
    attachVolume: async (r) => {
      const bdm = await volumes.attach(r.ctx, r.params.server_id!, r.body.volumeAttachment, { multiattach: atLeast(r.ctx.version, 2, 60) });
      await actions.record(r.ctx, r.params.server_id!, 'attach_volume');
      return ok({ volumeAttachment: attachCreatedView(bdm, r.ctx) });
    },
    updateVolumeAttachment: async (r) => {
      await volumes.update(r.ctx, r.params.server_id!, r.params.volume_id!, r.body.volumeAttachment, {
        mutable: atLeast(r.ctx.version, 2, 85),
      });
      await actions.record(r.ctx, r.params.server_id!, 'swap_volume');
      return accepted();
    },
    detachVolume: async (r) => {
      await volumes.detach(r.ctx, r.params.server_id!, r.params.volume_id!);
      await actions.record(r.ctx, r.params.server_id!, 'detach_volume');
      return accepted();
    },
    listFlavors: async (r) => ok({ flavors: FLAVORS.map((f) => flavorSummary(f, r.ctx, r.links)) }),
    listFlavorsDetail: async (r) => ok({ flavors: FLAVORS.map((f) => flavorDetail(f, r.ctx, r.links)) }),
    showFlavor: async (r) => ok({ flavor: flavorDetail(flavor(r.params.flavor_id!), r.ctx, r.links) }),
    listFlavorExtraSpecs: async (r) => {
      flavor(r.params.flavor_id!);
      return ok({ extra_specs: {} });
    },
    ...computeQuotaRoutes(quotas),
    ...computeExtraRoutes({ ...extras, servers }),
  } satisfies ComputeRoutes;
}
