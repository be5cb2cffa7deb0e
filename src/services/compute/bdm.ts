/**
 * `block_device_mapping_v2` of `POST /servers`: the checks Nova makes
 * before it touches Cinder, with Nova's texts (all 400 `badRequest`).
 * Sources: `nova/block_device.py` (`BlockDeviceDict.from_api`, `_validate`),
 * `nova/compute/api.py` (`_check_and_transform_bdm`, `_validate_bdm`),
 * `nova/exception.py` (the InvalidBDM* messages). The checks that need the
 * database (volumes, snapshots, types) are in serverCreate.ts, in Nova's order.
 */
import { BdmDestination, BdmSource, DISK_BUSES, prependDev, ROOT_DEVICE_NAME, stripDev } from '../../domain/compute';
import { badRequest } from '../../domain/errors';

/** One mapping as the (schema-validated) request body has it. */
export interface BdmRequest {
  boot_index?: number | string | null;
  uuid?: string;
  source_type?: string;
  destination_type?: string;
  volume_size?: number | string;
  delete_on_termination?: boolean | string;
  device_name?: string;
  disk_bus?: string;
  device_type?: string;
  guest_format?: string;
  no_device?: unknown;
  volume_type?: string | null;
  tag?: string;
  [key: string]: unknown;
}

/** A mapping after `from_api`: typed, ids placed, booleans and integers parsed. */
export interface Bdm {
  bootIndex: number | null;
  source: BdmSource;
  destination: BdmDestination;
  volumeId?: string;
  snapshotId?: string;
  imageId?: string;
  size?: number;
  volumeType?: string;
  deleteOnTermination: boolean;
  deviceName?: string;
  diskBus?: string;
  guestFormat?: string;
  tag?: string;
}

/** `nova/exception.py:InvalidBDMFormat`. */
export const invalidBdmFormat = (details: string) => badRequest(`Block Device Mapping is Invalid: ${details}`);

export const BDM_TEXT = {
  bootSequence: 'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.',
  localsLimit: 'Block Device Mapping is Invalid: You specified more local devices than the limit allows',
  ephemeralSize:
    'Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.',
  swapSize: 'Swap drive requested is larger than instance type allows.',
  blankSize: "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size",
  imageSize: "Images with destination_type 'volume' need to have a non-zero size specified",
  // InvalidBDMDiskBus spells its format `msg_fmr`, so Nova shows InvalidBDM's text.
  diskBus: 'Block Device Mapping is Invalid.',
  missingImageRef: 'Missing imageRef attribute',
  mixedSyntax: 'Using different block_device_mapping syntaxes is not allowed in the same request.',
  multiCreateVolume: 'Cannot attach one or more volumes to multiple instances',
  multiattachVersion: 'Multiattach volumes are only supported starting with compute API version 2.60.',
} as const;

export const bdmVolumeNotFound = (id: string) => badRequest(`Block Device Mapping is Invalid: failed to get volume ${id}.`);
export const bdmSnapshotNotFound = (id: string) => badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${id}.`);
export const bdmImageNotFound = (id: string) => badRequest(`Block Device Mapping is Invalid: failed to get image ${id}.`);
export const bdmNotBootable = (id: string) => badRequest(`Block Device ${id} is not bootable.`);

/** `oslo_utils.strutils.bool_from_string` (non-strict: anything else is false). */
export function boolFromString(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(String(v).trim().toLowerCase());
}

/** boot_index: null and negative values mean "not bootable" (Nova keeps negatives; they never boot). */
const bootIndexOf = (raw: BdmRequest['boot_index']): number | null => (raw === undefined || raw === null ? null : Number(raw));

/**
 * `BlockDeviceDict.from_api` for each mapping, in request order; the first
 * failure is the answer. `imageRefGiven` is whether the request had an
 * `imageRef` key at all (Nova: `image_href is not None`, bug 1433609).
 */
export function fromApi(raw: readonly BdmRequest[], imageRefGiven: boolean): Bdm[] {
  const out: Bdm[] = [];
  for (const api of raw) {
    // A no_device mapping only suppresses an image-defined device; cairn's images define none.
    if (api.no_device) continue;
    const source = api.source_type;
    const uuid = api.uuid;
    if (source === BdmSource.blank && uuid) throw invalidBdmFormat('Invalid device UUID.');
    if (source !== BdmSource.blank && !uuid) throw invalidBdmFormat('Missing device UUID.');
    // Without a source_type Nova stores the uuid under `None_id`, which its own field check refuses.
    if (source === undefined) throw invalidBdmFormat('Following fields are invalid: None_id');
    // Nova stores a missing destination as null and never attaches it; cairn takes the clients' default (OSC's).
    const destination = api.destination_type ?? (source === BdmSource.blank ? BdmDestination.local : BdmDestination.volume);
    const bootIndex = bootIndexOf(api.boot_index);
    if (source === BdmSource.image && destination === BdmDestination.local && !(imageRefGiven && bootIndex === 0)) {
      throw invalidBdmFormat('Mapping image to local is not supported.');
    }
    const volumeType = api.volume_type ?? undefined;
    if (destination === BdmDestination.local && volumeType) {
      throw invalidBdmFormat('Specifying a volume_type with destination_type=local is not supported.');
    }
    if (source === BdmSource.volume && volumeType) {
      throw invalidBdmFormat('Specifying volume type to existing volume is not supported.');
    }
    if (api.device_name !== undefined && api.device_name.includes(' ')) throw invalidBdmFormat('Device name contains spaces.');
    const size = api.volume_size === undefined ? undefined : Number(api.volume_size);
    out.push({
      bootIndex,
      source: source as BdmSource,
      destination: destination as BdmDestination,
      ...(source === BdmSource.volume ? { volumeId: uuid } : {}),
      ...(source === BdmSource.snapshot ? { snapshotId: uuid } : {}),
      ...(source === BdmSource.image ? { imageId: uuid } : {}),
      // validate_and_default_volume_size: 0 is "no size".
      ...(size ? { size } : {}),
      ...(volumeType ? { volumeType } : {}),
      deleteOnTermination: api.delete_on_termination === undefined ? false : boolFromString(api.delete_on_termination),
      ...(api.device_name ? { deviceName: prependDev(api.device_name) } : {}),
      ...(api.disk_bus ? { diskBus: api.disk_bus } : {}),
      ...(api.guest_format ? { guestFormat: api.guest_format } : {}),
      ...(api.tag !== undefined ? { tag: api.tag } : {}),
    });
  }
  return out;
}

/** One mapping of the legacy `block_device_mapping` (`schemas/block_device_mapping_v1.py`). */
export interface LegacyBdmRequest {
  virtual_name?: string;
  volume_id?: string;
  snapshot_id?: string;
  volume_size?: number | string;
  device_name?: string;
  delete_on_termination?: boolean | string;
  no_device?: unknown;
  connection_info?: string;
}

const EPHEMERAL_RE = /^ephemeral(\d|[1-9]\d+)$/;

/**
 * The legacy `block_device_mapping` in the v2 form, as Nova's
 * `block_device.from_legacy_mapping` makes it in `_check_and_transform_bdm`
 * (root device name `vda`: cairn's images name none): each mapping becomes a
 * `from_legacy` one (swap/ephemeralN → blank local, snapshot_id → snapshot
 * to volume, volume_id → volume to volume, anything else → "Unrecognized
 * legacy format."); a volume or snapshot on the root device boots (boot
 * index 0), every other mapping does not (-1); and without such a root, an
 * `imageRef` adds the image as the local root in front (`create_image_bdm`).
 */
export function fromLegacy(raw: readonly LegacyBdmRequest[], imageRef: string): Bdm[] {
  const root = stripDev(ROOT_DEVICE_NAME);
  let volumeBacked = false;
  const out: Bdm[] = [];
  for (const legacy of raw) {
    if (legacy.no_device) continue;
    const virtual = legacy.virtual_name;
    const deleteOnTermination = legacy.delete_on_termination === undefined ? false : boolFromString(legacy.delete_on_termination);
    if (legacy.device_name !== undefined && legacy.device_name.includes(' ')) throw invalidBdmFormat('Device name contains spaces.');
    const size = legacy.volume_size === undefined ? undefined : Number(legacy.volume_size);
    const common = {
      ...(size ? { size } : {}),
      ...(legacy.device_name ? { deviceName: prependDev(legacy.device_name) } : {}),
    };
    if (virtual === 'swap' || (virtual !== undefined && EPHEMERAL_RE.test(virtual))) {
      out.push({
        bootIndex: -1,
        source: BdmSource.blank,
        destination: BdmDestination.local,
        deleteOnTermination: true,
        ...(virtual === 'swap' ? { guestFormat: 'swap' } : {}),
        ...common,
      });
      continue;
    }
    let b: Bdm;
    if (legacy.snapshot_id) {
      b = {
        bootIndex: -1,
        source: BdmSource.snapshot,
        destination: BdmDestination.volume,
        snapshotId: legacy.snapshot_id,
        deleteOnTermination,
        ...common,
      };
    } else if (legacy.volume_id) {
      b = {
        bootIndex: -1,
        source: BdmSource.volume,
        destination: BdmDestination.volume,
        volumeId: legacy.volume_id,
        deleteOnTermination,
        ...common,
      };
    } else {
      throw invalidBdmFormat('Unrecognized legacy format.');
    }
    if (b.deviceName && stripDev(b.deviceName) === root) {
      b.bootIndex = 0;
      volumeBacked = true;
    }
    out.push(b);
  }
  if (!volumeBacked && imageRef) {
    out.unshift({ bootIndex: 0, source: BdmSource.image, destination: BdmDestination.local, imageId: imageRef, deleteOnTermination: true });
  }
  return out;
}

/** `_check_and_transform_bdm`: with an image root, no volume may take the root device name. */
export function checkRootDeviceName(bdms: readonly Bdm[], imageRef: string): void {
  if (!imageRef) return;
  const root = stripDev(ROOT_DEVICE_NAME);
  if (bdms.some((b) => b.destination === BdmDestination.volume && b.deviceName && stripDev(b.deviceName) === root)) {
    throw badRequest(`The volume cannot be assigned the same device name as the root device ${root}`);
  }
}

/** `_validate_bdm`: boot indexes ≥ 0 must be exactly 0, 1, … n-1 (and at least one). */
export function checkBootSequence(bdms: readonly Bdm[]): void {
  const indexes = bdms
    .map((b) => b.bootIndex)
    .filter((i): i is number => i !== null && i >= 0)
    .sort((a, b) => a - b);
  if (indexes.length === 0 || indexes.some((v, i) => v !== i)) throw badRequest(BDM_TEXT.bootSequence);
}

/** `_validate_bdm`'s per-mapping checks that need nothing but the mapping (called in its loop, in order). */
export function checkMappingShape(b: Bdm): void {
  if (b.source === BdmSource.image && b.destination === BdmDestination.volume && !b.size) throw badRequest(BDM_TEXT.imageSize);
  if (b.source === BdmSource.blank && b.destination === BdmDestination.volume && !b.size) throw badRequest(BDM_TEXT.blankSize);
  if (b.diskBus && !DISK_BUSES.includes(b.diskBus)) throw badRequest(BDM_TEXT.diskBus);
}

const isSwap = (b: Bdm) => b.source === BdmSource.blank && b.destination === BdmDestination.local && b.guestFormat === 'swap';
const isEphemeral = (b: Bdm) => b.source === BdmSource.blank && b.destination === BdmDestination.local && b.guestFormat !== 'swap';

/**
 * `_validate_bdm`'s tail: ephemeral and swap sizes against the flavor
 * (cairn's flavors have neither), one swap, `max_local_block_devices` (3).
 * Then cairn's own limit: the only local disk it can give is the image root.
 */
export function checkLocalDisks(bdms: readonly Bdm[]): void {
  if (bdms.filter(isEphemeral).reduce((sum, b) => sum + (b.size ?? 0), 0) > 0) throw badRequest(BDM_TEXT.ephemeralSize);
  const swaps = bdms.filter(isSwap);
  if (swaps.length > 1) throw invalidBdmFormat('More than one swap drive requested.');
  if ((swaps[0]?.size ?? 0) > 0) throw badRequest(BDM_TEXT.swapSize);
  if (bdms.filter((b) => b.destination === BdmDestination.local).length > 3) throw badRequest(BDM_TEXT.localsLimit);
  const local = bdms.find((b) => b.destination === BdmDestination.local && !(b.source === BdmSource.image && b.bootIndex === 0));
  if (local) {
    throw invalidBdmFormat(`cairn keeps no local disks but the image root (source_type=${local.source}, destination_type=local).`);
  }
}

/** The mapping that is the root (boot index 0), if any. */
export const rootOf = <T extends { bootIndex: number | null }>(bdms: readonly T[]): T | undefined => bdms.find((b) => b.bootIndex === 0);
