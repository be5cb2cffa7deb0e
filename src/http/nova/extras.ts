/**
 * The compute routes clients call around volumes besides servers and
 * attachments: a server's addresses (none: no network service), its
 * instance actions, key pairs, availability zones, the usage report, and
 * the deprecated `os-volumes`/`os-snapshots` proxies (≤ 2.35).
 */
import { atLeast } from '../../domain/microversion';
import { forbidden, notFound } from '../../domain/errors';
import { isoCinder } from '../../domain/time';
import type { InstanceActionService } from '../../services/compute/instanceActions';
import type { KeypairService } from '../../services/compute/keypairs';
import { proxySnapshotView, proxyVolumeView, type NovaVolumeProxy } from '../../services/compute/novaVolumeProxy';
import type { ServerService } from '../../services/compute/servers';
import type { TenantUsageService } from '../../services/compute/tenantUsage';
import { accepted, noContent, ok } from '../shared/http';
import { one } from '../../services/listQuery';
import { createHash } from 'node:crypto';
import type { ComputeRequest, ComputeRouteTable, ComputeRoutes } from './http';
import { instanceActionDetail, instanceActionView, keypairView } from './views';

export interface ComputeExtrasDeps {
  readonly servers: ServerService;
  readonly actions: InstanceActionService;
  readonly keypairs: KeypairService;
  readonly usage: TenantUsageService;
  readonly proxy: NovaVolumeProxy;
  readonly zone: string;
  readonly host: string;
}

/** A stable uuid for a (host, binary) service: its 2.53 id. */
function serviceUuid(host: string, binary: string): string {
  const h = createHash('sha1').update(`${host}/${binary}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Another user's key pairs may be named from 2.10. */
const keypairOptions = (r: ComputeRequest) => ({ otherUsers: atLeast(r.ctx.version, 2, 10) });

export function computeExtraRoutes(d: ComputeExtrasDeps): ComputeRouteTable {
  return {
    // Nova without Neutron ports: no addresses (`ips.py` over an empty network info).
    listServerIps: async (r) => {
      await d.servers.get(r.ctx, r.params.server_id!);
      return ok({ addresses: {} });
    },
    showServerIps: async (r) => {
      await d.servers.get(r.ctx, r.params.server_id!);
      throw notFound('Instance is not a member of specified network');
    },
    listInstanceActions: async (r) =>
      ok({
        instanceActions: (await d.actions.list(r.ctx, r.params.server_id!, { deletedServers: atLeast(r.ctx.version, 2, 21) })).map((a) =>
          instanceActionView(a, r.ctx),
        ),
      }),
    showInstanceAction: async (r) => {
      const { action, server } = await d.actions.show(r.ctx, r.params.server_id!, r.params.request_id!, {
        deletedServers: atLeast(r.ctx.version, 2, 21),
      });
      return ok({ instanceAction: instanceActionDetail(action, server, r.ctx) });
    },

    listKeypairs: async (r) => {
      const rows = await d.keypairs.list(r.ctx, r.query, { ...keypairOptions(r), paged: atLeast(r.ctx.version, 2, 35) });
      return ok({ keypairs: rows.map((k) => ({ keypair: keypairView(k, r.ctx, false) })) });
    },
    showKeypair: async (r) =>
      ok({ keypair: keypairView(await d.keypairs.get(r.ctx, r.params.keypair_name!, r.query, keypairOptions(r)), r.ctx, true) }),
    createKeypair: async (r) => {
      const { row, privateKey } = await d.keypairs.create(r.ctx, r.body.keypair, keypairOptions(r));
      const view = { ...keypairView(row, r.ctx, false), user_id: row.user_id, ...(privateKey ? { private_key: privateKey } : {}) };
      return { status: atLeast(r.ctx.version, 2, 2) ? 201 : 200, body: { keypair: view } };
    },
    deleteKeypair: async (r) => {
      await d.keypairs.delete(r.ctx, r.params.keypair_name!, r.query, keypairOptions(r));
      return atLeast(r.ctx.version, 2, 2) ? noContent() : accepted();
    },

    listComputeAvailabilityZones: async () =>
      ok({ availabilityZoneInfo: [{ zoneName: d.zone, zoneState: { available: true }, hosts: null }] }),
    listComputeAvailabilityZonesDetail: async (r) => {
      if (!r.ctx.isAdmin) throw forbidden('os_compute_api:os-availability-zone:detail');
      const now = isoCinder(new Date());
      return ok({
        availabilityZoneInfo: [
          {
            zoneName: 'internal',
            zoneState: { available: true },
            hosts: {
              [d.host]: {
                'nova-conductor': { available: true, active: true, updated_at: now },
                'nova-scheduler': { available: true, active: true, updated_at: now },
              },
            },
          },
          {
            zoneName: d.zone,
            zoneState: { available: true },
            hosts: { [d.host]: { 'nova-compute': { available: true, active: true, updated_at: now } } },
          },
        ],
      });
    },

    // Nova's services as an operator sees them (`os-services`, admin): the API's own heartbeat is their state.
    listComputeServices: async (r) => {
      if (!r.ctx.isAdmin) throw forbidden('os_compute_api:os-services:list');
      const now = isoCinder(new Date());
      const all = [
        ['nova-scheduler', 'internal'],
        ['nova-conductor', 'internal'],
        ['nova-compute', d.zone],
      ] as const;
      const binary = one(r.query.binary);
      const host = one(r.query.host);
      const services = all
        .map(([b, zone], i) => ({ b, zone, i }))
        .filter((x) => (binary === undefined || x.b === binary) && (host === undefined || host === d.host))
        .map(({ b, zone, i }) => ({
          id: atLeast(r.ctx.version, 2, 53) ? serviceUuid(d.host, b) : i + 1,
          binary: b,
          disabled_reason: null,
          host: d.host,
          state: 'up',
          status: 'enabled',
          updated_at: now,
          zone,
          ...(atLeast(r.ctx.version, 2, 11) ? { forced_down: false } : {}),
        }));
      return ok({ services });
    },
    listTenantUsages: async (r) => ok({ tenant_usages: await d.usage.list(r.ctx, r.query, { paged: atLeast(r.ctx.version, 2, 40) }) }),
    showTenantUsage: async (r) =>
      ok({ tenant_usage: await d.usage.show(r.ctx, r.params.tenant_id!, r.query, { paged: atLeast(r.ctx.version, 2, 40) }) }),

    listProxyVolumes: async (r) => ok({ volumes: (await d.proxy.listVolumes(r.ctx, r.query)).map(proxyVolumeView) }),
    listProxyVolumesDetail: async (r) => ok({ volumes: (await d.proxy.listVolumes(r.ctx, r.query)).map(proxyVolumeView) }),
    showProxyVolume: async (r) => ok({ volume: proxyVolumeView(await d.proxy.getVolume(r.ctx, r.params.volume_id!)) }),
    createProxyVolume: async (r) => ok({ volume: proxyVolumeView(await d.proxy.createVolume(r.ctx, r.body.volume)) }),
    deleteProxyVolume: async (r) => {
      await d.proxy.deleteVolume(r.ctx, r.params.volume_id!);
      return accepted();
    },
    listProxySnapshots: async (r) => ok({ snapshots: (await d.proxy.listSnapshots(r.ctx, r.query)).map(proxySnapshotView) }),
    listProxySnapshotsDetail: async (r) => ok({ snapshots: (await d.proxy.listSnapshots(r.ctx, r.query)).map(proxySnapshotView) }),
    showProxySnapshot: async (r) => ok({ snapshot: proxySnapshotView(await d.proxy.getSnapshot(r.ctx, r.params.snapshot_id!)) }),
    createProxySnapshot: async (r) => ok({ snapshot: proxySnapshotView(await d.proxy.createSnapshot(r.ctx, r.body.snapshot)) }),
    deleteProxySnapshot: async (r) => {
      await d.proxy.deleteSnapshot(r.ctx, r.params.snapshot_id!);
      return accepted();
    },
  } satisfies ComputeRoutes;
}
