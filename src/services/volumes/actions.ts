import { badRequest, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import {
  ALL_ATTACH_STATUSES,
  AttachStatus,
  resetTarget,
  resetTransition,
  statusFromAttachments,
  VolumeStatus,
  VolumeTransitions,
  VOLUME_RETYPABLE,
} from '../../domain/status';
import type { Tx } from '../../db/connection';
import * as attachmentsDb from '../../db/attachments';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { placeVolume } from '../backends/placement';
import { refuseEncryptionChange } from '../types/encryption';
import { chargeQuota } from '../quotas/quotas';
import { enqueue } from '../tasks/outbox';
import { resolveTypeForCreate } from '../types/volumeTypes';
import { scopeOf } from '../../domain/context';
import { volumeStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse, refuseUnlessFrom } from '../status/move';
import { TaskKind } from '../../domain/status';

/**
 * The volume actions that are not about attachments: extend, bootable,
 * retype, admin resets, image metadata.
 */
export class VolumeActionService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  private async lock(trx: Tx, ctx: RequestContext, id: string): Promise<DbVolumeRow> {
    const v = await volumesDb.lock(trx, id, scopeOf(ctx, true));
    if (!v) throw notFound(`Volume ${id} could not be found.`);
    return v;
  }

  /**
   * `os-extend`: checks and charges quota for the growth, moves the volume
   * to extending and queues the backend grow. `inUse`: an in-use volume may grow too (3.42).
   */
  async extend(ctx: RequestContext, id: string, newSize: number, opts: { inUse: boolean }): Promise<void> {
    requireWriter(ctx, 'volume:extend');
    await this.db.transaction(async (trx) => {
      const v = await this.lock(trx, ctx, id);
      const t = opts.inUse ? VolumeTransitions.extendAttached : VolumeTransitions.extend;
      refuseUnlessFrom(t, v.status, () =>
        invalidVolume(`Volume ${v.id} status must be ${t.from.map((s) => `'${s}'`).join(' or ')} to extend, currently ${v.status}.`),
      );
      if (newSize <= v.size) {
        throw invalidInput(`New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`);
      }
      const type = await resolveTypeForCreate(trx, { ...ctx, isAdmin: true }, v.volume_type_id);
      await chargeQuota(trx, v.project_id, { resource: 'volumes', gigabytes: newSize - v.size, perVolumeSize: newSize, volumeType: type });
      // pending_size is the charge: quota usage counts it from now on.
      await moveOrRefuse(trx, volumeStatus, v.id, t, () => invalidVolume(`Volume ${v.id} status changed meanwhile (${v.status}).`), {
        pending_size: newSize,
      });
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.volumeExtend,
        { type: 'volume', id: v.id, backend: v.backend },
        { new_size: newSize, provider_location: v.provider_location },
      );
    });
    this.deps.notifier.tasksWritten();
  }

  async setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
    requireWriter(ctx, 'volume:update');
    await this.db.transaction(async (trx) => {
      const v = await this.lock(trx, ctx, id);
      if (v.status === VolumeStatus.maintenance) throw invalidVolume('The volume cannot be updated during maintenance.');
      await volumesDb.update(trx, v.id, { bootable });
    });
  }

  /**
   * `os-retype` within one backend: a database change (no data moves, so
   * `migration_policy` does not matter). A type of another backend → 400.
   */
  async retype(ctx: RequestContext, id: string, newType: string): Promise<void> {
    requireWriter(ctx, 'volume:retype');
    await this.db.transaction(async (trx) => {
      const v = await this.lock(trx, ctx, id);
      if (!VOLUME_RETYPABLE.includes(v.status as VolumeStatus)) {
        throw invalidVolume(`Volume ${v.id} status must be available or in-use to retype, but the current status is ${v.status}.`);
      }
      const type = await resolveTypeForCreate(trx, ctx, newType);
      if (type.id === v.volume_type_id) throw invalidInput('Retype requires a different volume type.');
      await refuseEncryptionChange(trx, v.volume_type_id, type.id);
      const placement = placeVolume(this.deps.config, type.extraSpecs);
      if (!placement.ok || placement.backend !== v.backend) {
        throw invalidInput(`Volume type ${type.name} is served by another backend; retype with migration is not supported.`);
      }
      if (placement.multiattach !== v.multiattach && v.status !== VolumeStatus.available) {
        throw invalidInput('Retyping between multiattach and non-multiattach types is only allowed on available volumes.');
      }
      await chargeQuota(trx, v.project_id, { resource: 'volumes', volumes: 1, gigabytes: v.size, volumeType: type, perTypeOnly: true });
      await volumesDb.update(trx, v.id, { volume_type_id: type.id, multiattach: placement.multiattach });
    });
  }

  /** Admin override of status / attach_status (DB only, as Cinder's `os-reset_status`). */
  async resetStatus(
    ctx: RequestContext,
    id: string,
    body: { status?: string; attach_status?: string; migration_status?: string },
  ): Promise<void> {
    requireAdmin(ctx, 'volume_extension:volume_admin_actions:reset_status');
    if (body.status === undefined && body.attach_status === undefined && body.migration_status === undefined) {
      throw badRequest('Must specify status, attach_status or migration_status.');
    }
    const status = body.status === undefined ? undefined : resetTarget(body.status.toLowerCase());
    if (body.status !== undefined && !status) throw badRequest(`Must specify a valid status: ${body.status}`);
    const attach = body.attach_status === undefined ? undefined : ALL_ATTACH_STATUSES.find((s) => s === body.attach_status!.toLowerCase());
    if (body.attach_status !== undefined && !attach) throw badRequest(`Must specify a valid attach status: ${body.attach_status}`);
    await this.db.transaction(async (trx) => {
      const v = await this.lock(trx, ctx, id);
      const rows = await attachmentsDb.ofVolume(trx, v.id);
      if (status === VolumeStatus.inUse && rows.length === 0) throw invalidVolume('Volume cannot be in-use without attachments.');
      if (attach === AttachStatus.detached) for (const a of rows) await attachmentsDb.remove(trx, a.id);
      const attachStatus =
        attach ??
        (status ? statusFromAttachments(attach === AttachStatus.detached ? [] : rows.map((r) => r.attach_status)).attachStatus : undefined);
      await moveIfStill(trx, volumeStatus, v.id, resetTransition([v.status as VolumeStatus], status ?? (v.status as VolumeStatus)), {
        ...(attachStatus ? { attach_status: attachStatus } : {}),
        ...(status && status !== VolumeStatus.extending ? { pending_size: null } : {}),
      });
    });
  }

  // --- image metadata (os-set/unset/show_image_metadata) --------------------

  async showImageMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    return this.db.transaction(async (trx) => (await this.lock(trx, ctx, id)).image_metadata ?? {});
  }

  async setImageMetadata(ctx: RequestContext, id: string, metadata: Record<string, string> | null): Promise<Record<string, string>> {
    requireWriter(ctx, 'volume:update_volume_metadata');
    return this.db.transaction(async (trx) => {
      const v = await this.lock(trx, ctx, id);
      const next = { ...(v.image_metadata ?? {}), ...metadata };
      await volumesDb.update(trx, v.id, { image_metadata: next });
      return next;
    });
  }

  async unsetImageMetadata(ctx: RequestContext, id: string, key: string): Promise<void> {
    requireWriter(ctx, 'volume:delete_volume_metadata');
    await this.db.transaction(async (trx) => {
      const v = await this.lock(trx, ctx, id);
      if (!v.image_metadata || !(key in v.image_metadata))
        throw notFound(`Glance metadata for volume ${v.id} with key ${key} could not be found.`);
      const { [key]: _gone, ...rest } = v.image_metadata;
      await volumesDb.update(trx, v.id, { image_metadata: rest });
    });
  }
}
