/**
 * `os-volume_upload_image` (Cinder `volume_actions.py:_volume_upload_image`,
 * `volume/api.py:copy_volume_to_image`): a new queued image, the volume
 * moved to `uploading` with the task that copies its data, and the volume
 * back to what its attachments say when the task ends, either way.
 */
import { ApiError, badRequest, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import { statusFromAttachments, VolumeSettleTransitions, VolumeStatus, VolumeUploadTransitions, TaskKind } from '../../domain/status';
import * as attachmentsDb from '../../db/attachments';
import type { Tx } from '../../db/connection';
import { isoCinder } from '../../domain/time';
import * as volumesDb from '../../db/volumes';
import { imageServiceOf } from '../images';
import { imageCallerOf } from '../images/caller';
import { COPYABLE_DISK_FORMATS, type Image } from '../../domain/image';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { enqueue } from '../tasks/outbox';
import { resolveTypeForCreate } from '../types/volumeTypes';
import { scopeOf } from '../../domain/context';
import { volumeStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse, refuseUnlessFrom } from '../status/move';

export interface UploadImageParams {
  image_name: string;
  force?: boolean | string;
  disk_format?: string;
  container_format?: string;
  visibility?: string;
  protected?: boolean | string;
}

/** Cinder's `glance_core_properties`: what a volume's image metadata does not pass on to the new image. */
const GLANCE_CORE_PROPERTIES = new Set([
  'checksum',
  'container_format',
  'disk_format',
  'image_name',
  'image_id',
  'min_disk',
  'min_ram',
  'name',
  'size',
]);

/** `strutils.bool_from_string(strict=True)`, with Cinder's 400 for anything else. */
function strictBool(v: boolean | string | undefined, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw badRequest(
    `Invalid value for '${name}': Unrecognized value '${v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`,
  );
}

export class VolumeUploadService {
  constructor(private readonly deps: ServiceDeps) {}

  /** `visibility`: the request may set the image's `visibility` and `protected` (3.1). */
  async upload(ctx: RequestContext, id: string, p: UploadImageParams, opts: { visibility: boolean }): Promise<Record<string, unknown>> {
    requireWriter(ctx, 'volume_extension:volume_actions:upload_image');
    const v31 = opts.visibility;
    for (const k of ['visibility', 'protected'] as const) {
      if (!v31 && p[k] !== undefined)
        throw badRequest(
          `Invalid input for field/attribute os-volume_upload_image. Value: ${JSON.stringify(p)}. Additional properties are not allowed ('${k}' was unexpected)`,
        );
    }
    let force = strictBool(p.force, 'force');
    // Cinder's `enable_force_upload` (off by default): without it `force` is ignored.
    if (!this.deps.config.enableForceUpload) force = false;
    const diskFormat = p.disk_format ?? 'raw';
    if (!COPYABLE_DISK_FORMATS.includes(diskFormat)) {
      throw invalidInput(`cairn uploads volumes as ${COPYABLE_DISK_FORMATS.join(', ')} images only, not ${diskFormat}.`);
    }
    const visibility = v31 ? (p.visibility ?? 'private') : undefined;
    const isProtected = v31 ? strictBool(p.protected, 'protected') : undefined;
    if (visibility === 'public') requireAdmin(ctx, 'volume_extension:volume_actions:upload_public');

    const transition = force ? VolumeUploadTransitions.beginForced : VolumeUploadTransitions.begin;
    const refusal = (vid: string) => invalidVolume(`Volume ${vid} status must be ${transition.from.join(' or ')}`);
    // The image is created first, outside the volume's transaction (an external Glance answers slowly);
    // a volume found in the wrong status meanwhile gets its image removed again.
    const before = await volumesDb.find(this.deps.db, id, scopeOf(ctx, true));
    if (!before) throw notFound(`Volume ${id} could not be found.`);
    refuseUnlessFrom(transition, before.status, () => refusal(id));

    const images = imageServiceOf(this.deps);
    const caller = imageCallerOf(ctx);
    const properties: Record<string, string> = {};
    for (const [k, val] of Object.entries(before.image_metadata ?? {})) if (!GLANCE_CORE_PROPERTIES.has(k)) properties[k] = val;
    let image: Image;
    try {
      image = await images.create(caller, {
        name: p.image_name,
        disk_format: diskFormat,
        container_format: p.container_format ?? 'bare',
        ...(visibility !== undefined ? { visibility } : {}),
        ...(isProtected !== undefined ? { protected: isProtected } : {}),
        properties,
      });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badRequest(err instanceof Error ? err.message : String(err));
    }
    try {
      const moved = await this.deps.db.transaction(async (trx) => {
        const row = await moveOrRefuse(trx, volumeStatus, id, transition, () => refusal(id));
        await enqueue(
          trx,
          this.deps.config,
          ctx,
          TaskKind.volumeUploadImage,
          { type: 'volume', id, backend: row.backend },
          { image_id: image.id, provider_location: row.provider_location },
        );
        const type = await resolveTypeForCreate(trx, { ...ctx, isAdmin: true }, row.volume_type_id);
        return { row, type };
      });
      this.deps.notifier.tasksWritten();
      const { row, type } = moved;
      return {
        id: row.id,
        updated_at: isoCinder(row.updated_at),
        status: VolumeStatus.uploading,
        display_description: row.display_description,
        size: row.size,
        volume_type: {
          id: type.id,
          name: type.name,
          description: type.description,
          is_public: type.is_public,
          extra_specs: type.extraSpecs,
          qos_specs_id: null,
          created_at: isoCinder(type.created_at),
          updated_at: isoCinder(type.updated_at),
          deleted: false,
          deleted_at: null,
        },
        image_id: image.id,
        container_format: image.container_format,
        disk_format: image.disk_format,
        image_name: image.name,
        protected: image.protected,
        visibility: image.visibility,
      };
    } catch (err) {
      await images.remove(caller, image.id).catch(() => undefined);
      throw err;
    }
  }
}

/** The upload task ended (done or failed for good): the volume goes back to what its attachments say. */
export async function volumeUploadEnded(trx: Tx, volumeId: string): Promise<void> {
  const rows = await attachmentsDb.ofVolume(trx, volumeId);
  await moveIfStill(
    trx,
    volumeStatus,
    volumeId,
    VolumeSettleTransitions.uploadEnded(statusFromAttachments(rows.map((r) => r.attach_status)).status),
  );
}
