/**
 * Volumes made from a source: a snapshot (`snapshot_id`), another volume
 * (`source_volid`, a clone) or an image (`imageRef`/`image_id`). The rules are Cinder's
 * (`cinder/api/v3/volumes.py:create`, `volume/api.py:create`,
 * `volume/flows/api/create_volume.py`); the data is copied by the worker's
 * `volume.create` task on the source's backend.
 */
import { ApiError, badRequest, conflict, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import { isUuidLike } from '../../domain/ids';
import { CLONE_SOURCE, ImageStatus, SNAPSHOT_PROCEED, type SnapshotStatus, type VolumeStatus } from '../../domain/status';
import { imageCallerOf } from '../images/caller';
import { imageSizeGib, type Image, type ImageService } from '../../domain/image';
import type { Config } from '../../config';
import type { Tx } from '../../db/connection';
import * as snapshotsDb from '../../db/snapshots';
import type { DbSnapshotRow } from '../../db/snapshots';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import type { RequestContext } from '../../domain/context';
import { isMultiattachType, placeVolume, type Placement } from '../backends/placement';
import { resolveTypeForNewVolume, type ShareLockedType, type VolumeTypeWithSpecs } from '../types/volumeTypes';

/** The source of a new volume, locked in the create's transaction; `origin` is the volume whose data it is. */
export type VolumeSource =
  | { readonly kind: 'snapshot'; readonly snapshot: DbSnapshotRow; readonly origin: DbVolumeRow }
  | { readonly kind: 'volume'; readonly origin: DbVolumeRow };

export interface SourceFields {
  snapshot_id?: string | null;
  source_volid?: string | null;
  imageRef?: string | null;
  image_id?: string | null;
  backup_id?: string | null;
}

export const hasCopySource = (input: SourceFields): boolean => Boolean(input.snapshot_id || input.source_volid);

/** Cinder's `check_exclusive_options(snapshot=, imageRef=, source_volume=, backup=)`: it names every option, sorted. */
export function checkOneSource(input: SourceFields): void {
  const given = [input.snapshot_id, input.source_volid, input.imageRef ?? input.image_id, input.backup_id].filter(
    (v) => v !== undefined && v !== null,
  );
  if (given.length > 1) throw invalidInput('May specify only one of backup, imageRef, snapshot, source volume');
}

/**
 * Finds and locks the source (404 outside the caller's scope, as Cinder's
 * lookups) and checks its status. The lock orders the create against the
 * source's delete, which refuses while a volume is still being made from it.
 */
export async function lockSource(trx: Tx, ctx: RequestContext, input: SourceFields): Promise<VolumeSource | undefined> {
  const scope = { projectId: ctx.isAdmin ? undefined : ctx.projectId };
  if (input.snapshot_id) {
    const snapshot = await snapshotsDb.lock(trx, input.snapshot_id, scope);
    if (!snapshot) throw notFound(`Snapshot ${input.snapshot_id} could not be found.`);
    if (!SNAPSHOT_PROCEED.includes(snapshot.status as SnapshotStatus)) {
      throw badRequest(`Invalid snapshot: Originating snapshot status must be one of '${SNAPSHOT_PROCEED.join(', ')}' values`);
    }
    const origin = await volumesDb.find(trx, snapshot.volume_id, { projectId: undefined });
    return { kind: 'snapshot', snapshot, origin: origin! };
  }
  if (input.source_volid) {
    const origin = await volumesDb.lock(trx, input.source_volid, scope);
    if (!origin) throw notFound(`Volume ${input.source_volid} could not be found.`);
    if (!CLONE_SOURCE.includes(origin.status as VolumeStatus)) {
      throw invalidVolume(`Originating source volume status must be one of '${CLONE_SOURCE.join(', ')}' values`);
    }
    return { kind: 'volume', origin };
  }
  return undefined;
}

/** The new volume's size: the source's unless given, and never smaller (`_extract_size`, Cinder's texts). */
export function sizeFromSource(asked: number | undefined, src: VolumeSource): number {
  if (src.kind === 'snapshot') {
    const size = asked ?? src.snapshot.size;
    if (size < src.snapshot.size) {
      throw invalidInput(
        `Volume size '${size}'GB cannot be smaller than the snapshot size ${src.snapshot.size}GB. They must be >= original snapshot size.`,
      );
    }
    return size;
  }
  const size = asked ?? src.origin.size;
  if (size < src.origin.size) {
    // Two spaces before the size: Cinder's text has them.
    throw invalidInput(
      `Volume size '${size}'GB cannot be smaller than original volume size  ${src.origin.size}GB. They must be >= original volume size.`,
    );
  }
  return size;
}

/**
 * The new volume's type: the one asked for if the source's backend can
 * hold it (Cinder's `_retype_is_possible`: no data moves between backends
 * here), else the source's type (`_get_volume_type`).
 */
export async function typeForSource(
  trx: Tx,
  ctx: RequestContext,
  config: Config,
  asked: string | null | undefined,
  src: VolumeSource,
): Promise<ShareLockedType> {
  const sourceTypeId = src.kind === 'snapshot' ? src.snapshot.volume_type_id : src.origin.volume_type_id;
  if (asked === undefined || asked === null) {
    // The caller owns the source, so its type is theirs to use even if it is private now.
    return resolveTypeForNewVolume(trx, { ...ctx, isAdmin: true }, sourceTypeId);
  }
  const type = await resolveTypeForNewVolume(trx, ctx, asked);
  if (type.id !== sourceTypeId) {
    const placed = placeVolume(config, type.extraSpecs);
    if (!placed.ok || placed.backend !== src.origin.backend) {
      throw invalidInput(
        src.kind === 'volume'
          ? `Invalid volume_type provided: ${type.id} (requested type is not compatible; either match source volume, or omit type argument).`
          : `Invalid volume_type provided: ${type.id} (requested type is not compatible; recommend omitting the type argument).`,
      );
    }
  }
  return type;
}

/** A volume from a source lives on the source's backend: that is where the data is. */
export function placeFromSource(src: VolumeSource, type: VolumeTypeWithSpecs): Placement {
  return { ok: true, backend: src.origin.backend, host: src.origin.host, multiattach: isMultiattachType(type.extraSpecs) };
}

/** What the new volume's row records of its source (Cinder copies `bootable` from the origin volume). */
export function sourceColumns(src: VolumeSource | undefined): Pick<DbVolumeRow, 'snapshot_id' | 'source_volid' | 'bootable'> {
  if (!src) return { snapshot_id: null, source_volid: null, bootable: false };
  return {
    snapshot_id: src.kind === 'snapshot' ? src.snapshot.id : null,
    source_volid: src.kind === 'volume' ? src.origin.id : null,
    bootable: src.origin.bootable,
  };
}

/** The create task's `source`: what the worker copies from (see `createFromSource`). */
export type SourcePayload =
  | { kind: 'snapshot'; id: string; location: string | null; /** The snapshot's volume (the task's resource key). */ volume_id?: string }
  | {
      kind: 'volume';
      id: string;
      location: string | null;
      multiattach: boolean;
      /** GiB when the copy was asked for (point in time). */ size?: number;
    }
  | ImageSourcePayload;

export function sourcePayload(src: VolumeSource | undefined): { source?: SourcePayload } {
  if (!src) return {};
  return src.kind === 'snapshot'
    ? { source: { kind: 'snapshot', id: src.snapshot.id, location: src.snapshot.provider_location, volume_id: src.snapshot.volume_id } }
    : {
        source: {
          kind: 'volume',
          id: src.origin.id,
          location: src.origin.provider_location,
          multiattach: src.origin.multiattach,
          size: src.origin.size,
        },
      };
}

// --- images (`imageRef` / `image_id`) ----------------------------------------------

/** The text Cinder answers for an image it cannot find or may not read (`_image_uuid_from_ref`). */
export const IMAGE_NOT_FOUND = 'Invalid image identifier or unable to access requested image.';

/**
 * Cinder's `_image_uuid_from_ref`: the last path part of the reference, as
 * an id the caller may read, else as a name (one match; several → 409).
 * Called before the create's transaction (an external Glance is slow; the
 * local store reads its own table).
 */
export async function resolveImage(images: ImageService, ctx: RequestContext, ref: string): Promise<Image> {
  const key = ref.split('/').pop() ?? '';
  const caller = imageCallerOf(ctx);
  try {
    if (isUuidLike(key)) {
      const image = await images.get(caller, key);
      if (image) return image;
    }
    const named = await images.findByName(caller, ref);
    if (named.length > 1) throw conflict(`Multiple matches found for '${ref}', use an ID to be more specific.`);
    if (named.length === 1) return named[0]!;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // Cinder hides the image service's failure behind its not-found text; the reason goes to the log.
    throw badRequest(`${IMAGE_NOT_FOUND} (${err instanceof Error ? err.message : String(err)})`);
  }
  throw badRequest(IMAGE_NOT_FOUND);
}

/**
 * The size of a volume from `image`: the one asked for, else the image's
 * (its data rounded up to GiB, at least `min_disk`, at least 1); then
 * Cinder's `check_image_metadata` rules and texts.
 */
export function sizeFromImage(asked: number | undefined, image: Image): number {
  const dataGib = imageSizeGib(image.size);
  const size = asked ?? Math.max(dataGib, image.min_disk, 1);
  if (image.status !== ImageStatus.active) throw invalidInput(`Image ${image.id} is not active.`);
  if (dataGib > size) throw invalidInput(`Size of specified image ${dataGib}GB is larger than volume size ${size}GB.`);
  if (size < image.min_disk) throw invalidInput(`Volume size ${size}GB cannot be smaller than the image minDisk size ${image.min_disk}GB.`);
  return size;
}

/** Cinder's `IMAGE_ATTRIBUTES` copied into `volume_image_metadata` (`volume_utils.get_volume_image_metadata`). */
const IMAGE_ATTRIBUTES = ['checksum', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'size'] as const;

/** `volume_image_metadata` of a volume made from `image`: its custom properties, then the base attributes; strings, as Cinder stores them. */
export function volumeImageMetadata(image: Image): Record<string, string> {
  const md: Record<string, string> = {};
  for (const [k, v] of Object.entries(image.properties))
    if (v !== null && v !== undefined) md[k] = typeof v === 'string' ? v : JSON.stringify(v);
  md.image_id = image.id;
  if (image.name) md.image_name = image.name;
  for (const k of IMAGE_ATTRIBUTES) if (image[k] !== null && image[k] !== undefined) md[k] = String(image[k]);
  return md;
}

/** The create task's `source` for an image: what the worker checks again before it copies. */
export interface ImageSourcePayload {
  kind: 'image';
  id: string;
  size: number | null;
  checksum: string | null;
  disk_format: string | null;
}

export function imagePayload(image: Image | undefined): { source?: ImageSourcePayload } {
  if (!image) return {};
  return { source: { kind: 'image', id: image.id, size: image.size, checksum: image.checksum, disk_format: image.disk_format } };
}
