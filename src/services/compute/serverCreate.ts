/**
 * `POST /servers`: Nova's checks in Nova's order (`servers.py:create`,
 * `compute/api.py:_create_instance`, `_validate_bdm`), then, in ONE
 * transaction, the server row, the reservation of existing volumes, the new
 * volumes (through VolumeService.create: the same quota, the same create
 * tasks) and the mapping rows. The attaching itself is serverOps.ts's build.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { BdmDestination, BdmSource, FLAVORS, nextDeviceName, ROOT_DEVICE_NAME } from '../../domain/compute';
import { ApiError, badRequest } from '../../domain/errors';
import { ServerPowerState, ServerTaskState, ServerVmState } from '../../domain/status';
import type { Tx } from '../../db/connection';
import * as serversDb from '../../db/servers';
import type { DbServerRow } from '../../db/servers';
import * as snapshotsDb from '../../db/snapshots';
import * as volumesDb from '../../db/volumes';
import type { AttachmentService } from '../attachments/attachments';
import {
  BDM_TEXT,
  bdmNotBootable,
  bdmSnapshotNotFound,
  bdmVolumeNotFound,
  checkBootSequence,
  checkLocalDisks,
  checkMappingShape,
  checkRootDeviceName,
  fromApi,
  fromLegacy,
  rootOf,
  type Bdm,
  type BdmRequest,
  type LegacyBdmRequest,
} from './bdm';
import { chargeServerQuota } from './quotas';
import { requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import type { VolumeService } from '../volumes/volumes';
import { resolveTypeForCreate } from '../types/volumeTypes';
import { checkRequestedImage, imageOfMapping, imageOfRef } from './images';
import type { Image } from '../../domain/image';
import type { Config } from '../../config';

export interface ServerCreateBody {
  name: string;
  imageRef?: string | null;
  flavorRef: string | number;
  description?: string | null;
  metadata?: Record<string, string>;
  availability_zone?: string;
  block_device_mapping?: LegacyBdmRequest[];
  block_device_mapping_v2?: BdmRequest[];
  min_count?: number | string;
  max_count?: number | string;
  networks?: unknown;
  tags?: string[];
  adminPass?: string;
  accessIPv4?: string;
  accessIPv6?: string;
}

/** An IPv6 address as Nova shows it (netaddr's compact form, RFC 5952), via the WHATWG URL host parser. */
export function canonicalIpv6(addr: string): string {
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr;
  }
}

/** Nova's `get_id_from_href`: a flavorRef may be a link. */
const flavorIdOf = (ref: string | number) => String(ref).replace(/\/+$/, '').split('/').pop()!;

/** Cinder's 400 as Nova relays it (`translate_cinder_exception` → InvalidInput, `_validate_bdm` → InvalidVolume). */
const relayed = (prefix: string, err: unknown) =>
  err instanceof ApiError && err.status === 400 ? badRequest(`${prefix}${err.message} (HTTP 400)`) : err;

/** The volume API's services a server create calls, inside its own transaction. */
export interface ServerCreateServices {
  readonly volumes: VolumeService;
  readonly attachments: AttachmentService;
}

/** What the compute microversion decides for a server create (the HTTP layer does). */
export interface ServerCreateOptions {
  /** `networks` is a required key (2.37). */
  readonly requireNetworks: boolean;
  /** A multi-attach volume may be mapped (2.60). */
  readonly multiattach: boolean;
}

/** Validates and records a new server; the caller commits nothing else and starts the build after. */
export async function createServer(
  deps: ServiceDeps,
  cinder: ServerCreateServices,
  ctx: RequestContext,
  s: ServerCreateBody,
  opts: ServerCreateOptions,
): Promise<{ server: DbServerRow; adminPass: string }> {
  requireWriter(ctx, 'os_compute_api:servers:create');
  if (s.block_device_mapping?.length && s.block_device_mapping_v2?.length) throw badRequest(BDM_TEXT.mixedSyntax);
  if (opts.requireNetworks && s.networks === undefined)
    throw badRequest("Invalid input for field/attribute server. 'networks' is a required property");
  const raw = s.block_device_mapping_v2 ?? [];
  const legacy = s.block_device_mapping ?? [];
  const imageRef = s.imageRef || '';
  // The legacy syntax is converted as Nova's `_check_and_transform_bdm` does (`from_legacy_mapping`).
  let bdms = legacy.length ? fromLegacy(legacy, imageRef) : fromApi(raw, s.imageRef !== undefined && s.imageRef !== null);
  if (!imageRef && raw.length === 0 && legacy.length === 0) throw badRequest(BDM_TEXT.missingImageRef);
  const flavorId = flavorIdOf(s.flavorRef);
  const flavor = FLAVORS.find((f) => f.id === flavorId);
  if (!flavor) throw badRequest(`Flavor ${flavorId} could not be found.`);
  const minCount = Number(s.min_count ?? 1);
  const maxCount = Number(s.max_count ?? minCount);
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  if (maxCount > 1 && bdms.some((b) => b.source === BdmSource.volume)) throw badRequest(BDM_TEXT.multiCreateVolume);
  if (maxCount > 1) throw badRequest('cairn creates one server per request: min_count and max_count must be 1.');
  if (s.availability_zone && s.availability_zone !== deps.config.availabilityZone) {
    throw badRequest('The requested availability zone is not available');
  }
  // `_get_image`: the imageRef names an image the caller can get (services/compute/images.ts).
  const refImage = imageRef ? await imageOfRef(deps, ctx, imageRef) : undefined;
  // No mappings: the image is the root, as Nova's legacy path adds it (`from_legacy_mapping`).
  if (bdms.length === 0)
    bdms = [{ bootIndex: 0, source: BdmSource.image, destination: BdmDestination.local, imageId: imageRef, deleteOnTermination: true }];
  if (refImage) checkRequestedImage(refImage, flavor, rootOf(bdms));
  checkRootDeviceName(bdms, imageRef);

  const id = randomUUID();
  const now = new Date();
  const rootDevice = rootOf(bdms)?.deviceName ?? ROOT_DEVICE_NAME;
  const hasImageRoot = bdms.some((b) => b.source === BdmSource.image && b.destination === BdmDestination.local);
  const server: DbServerRow = {
    id,
    project_id: ctx.projectId,
    user_id: ctx.userId,
    name: s.name,
    description: s.description ?? null,
    vm_state: ServerVmState.building,
    task_state: ServerTaskState.blockDeviceMapping,
    power_state: ServerPowerState.noState,
    flavor_id: flavorId,
    image_ref: hasImageRoot ? imageRef : '',
    root_device_name: rootDevice,
    availability_zone: deps.config.availabilityZone,
    host: deps.config.hostname,
    metadata: s.metadata ?? {},
    tags: s.tags ?? [],
    fault: null,
    lease_until: null,
    created_at: now,
    updated_at: now,
    launched_at: null,
    deleted_at: null,
    access_ip_v4: s.accessIPv4 ?? null,
    access_ip_v6: s.accessIPv6 === undefined ? null : canonicalIpv6(s.accessIPv6),
  };
  await deps.db.transaction(async (trx) => {
    if (!imageRef) {
      const bootImage = await checkBootMetadata(trx, ctx, bdms, deps.config);
      if (bootImage) checkRequestedImage(bootImage, flavor, rootOf(bdms));
    }
    // Nova's quota checks (metadata items, then instances/cores/RAM) follow the boot metadata and precede
    // the mappings' own checks; under the project's quota lock, held until this server row commits.
    await chargeServerQuota(
      trx,
      ctx.projectId,
      FLAVORS.find((f) => f.id === flavorId)!,
      1,
      s.metadata,
    );
    await serversDb.insertServer(trx, server);
    // `_get_volumes_for_bdms`: every existing volume must be there (VolumeNotFound is a 400 on create).
    for (const b of bdms) {
      if (b.volumeId && !(await volumesDb.find(trx, b.volumeId, scope(ctx)))) throw badRequest(`Volume ${b.volumeId} could not be found.`);
    }
    checkBootSequence(bdms);
    const attachmentIds = new Map<Bdm, string>();
    for (const b of bdms) {
      if (b.volumeType) {
        b.volumeType = (
          await resolveTypeForCreate(trx, ctx, b.volumeType).catch((err: unknown) => {
            throw err instanceof ApiError && err.status === 404 ? badRequest(`Volume type ${b.volumeType} could not be found.`) : err;
          })
        ).name;
      }
      if (b.imageId !== undefined && b.imageId !== imageRef) {
        await imageOfMapping({ db: trx, config: deps.config }, ctx, b.imageId);
      } else if (b.volumeId) {
        const vol = (await volumesDb.find(trx, b.volumeId, scope(ctx)))!;
        if (vol.multiattach && !opts.multiattach) throw badRequest(BDM_TEXT.multiattachVersion);
        // `_check_attach_and_reserve_volume`: the volume is reserved for the server now, not at build.
        const a = await cinder.attachments.create(ctx, { volume_uuid: vol.id, instance_uuid: id }, trx).catch((err: unknown) => {
          throw relayed('Invalid volume: Invalid input received: ', err);
        });
        attachmentIds.set(b, a.id);
        b.size = vol.size;
      } else if (b.snapshotId) {
        const snap = await snapshotsDb.find(trx, b.snapshotId, scope(ctx));
        if (!snap) throw bdmSnapshotNotFound(b.snapshotId);
        b.size = b.size ?? snap.size;
      }
      checkMappingShape(b);
    }
    checkLocalDisks(bdms);
    assignDeviceNames(bdms, rootDevice);
    for (const b of bdms) {
      if (b.destination !== BdmDestination.volume) continue;
      if (b.source === BdmSource.blank || b.source === BdmSource.snapshot || b.source === BdmSource.image) {
        // A volume from an image is filled from it like a Cinder create (`DriverImageBlockDevice.attach`).
        const vol = await cinder.volumes
          .create(
            ctx,
            {
              size: b.size,
              volume_type: b.volumeType ?? null,
              snapshot_id: b.snapshotId ?? null,
              imageRef: b.imageId ?? null,
              name: b.source === BdmSource.blank ? `${id}-blank-vol` : '',
            },
            {},
            trx,
          )
          .catch((err: unknown) => {
            // Nova answers quota refusals of a create with 403 (`servers.py`: OverQuota → HTTPForbidden).
            throw err instanceof ApiError && err.status === 413 ? new ApiError(403, 'forbidden', err.message) : err;
          });
        b.volumeId = vol.id;
      }
      await serversDb.insertBdm(trx, {
        id: randomUUID(),
        server_id: id,
        project_id: ctx.projectId,
        boot_index: b.bootIndex,
        device_name: b.deviceName ?? null,
        source_type: b.source,
        destination_type: b.destination,
        volume_id: b.volumeId ?? null,
        snapshot_id: b.snapshotId ?? null,
        image_id: b.imageId ?? null,
        volume_size: b.size ?? null,
        volume_type: b.volumeType ?? null,
        delete_on_termination: b.deleteOnTermination,
        tag: b.tag ?? null,
        attachment_id: attachmentIds.get(b) ?? null,
        created_at: now,
        updated_at: null,
      });
    }
  });
  deps.notifier.tasksWritten();
  return { server, adminPass: s.adminPass ?? randomBytes(9).toString('base64url') };
}

const scope = (ctx: RequestContext) => ({ projectId: ctx.isAdmin ? undefined : ctx.projectId });

/**
 * `block_device.get_bdm_image_metadata` for a server without imageRef: the
 * first boot-index-0 mapping with something to boot must be found, and a
 * volume (or a snapshot's volume) must be bootable.
 */
async function checkBootMetadata(trx: Tx, ctx: RequestContext, bdms: readonly Bdm[], config: Config): Promise<Image | undefined> {
  for (const b of bdms) {
    if (b.bootIndex !== 0) continue;
    let volumeId = b.volumeId;
    if (b.snapshotId) {
      const snap = await snapshotsDb.find(trx, b.snapshotId, scope(ctx));
      if (!snap) throw badRequest(`Snapshot ${b.snapshotId} could not be found.`);
      volumeId = snap.volume_id;
    }
    if (b.imageId) return imageOfMapping({ db: trx, config }, ctx, b.imageId);
    if (volumeId) {
      const vol = await volumesDb.find(trx, volumeId, { projectId: b.snapshotId ? undefined : scope(ctx).projectId });
      if (!vol) throw bdmVolumeNotFound(volumeId);
      if (!vol.bootable) throw bdmNotBootable(volumeId);
      return undefined;
    }
  }
  return undefined;
}

/**
 * Nova names devices at the compute host (`_default_block_device_names`):
 * the root gets the root device name, the others keep what they asked for
 * or take the next free `/dev/vdX`.
 */
function assignDeviceNames(bdms: Bdm[], rootDevice: string): void {
  const used = [rootDevice, ...bdms.flatMap((b) => (b.bootIndex !== 0 && b.deviceName ? [b.deviceName] : []))];
  for (const b of bdms) {
    if (b.bootIndex === 0) b.deviceName = rootDevice;
    else if (!b.deviceName) {
      b.deviceName = nextDeviceName(used);
      used.push(b.deviceName);
    }
  }
}
