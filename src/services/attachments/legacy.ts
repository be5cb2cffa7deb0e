import { randomUUID } from 'node:crypto';
import { badRequest, invalidVolume } from '../../domain/errors';
import { AttachStatus, VolumeStatus, VolumeTransitions, type Transition } from '../../domain/status';
import * as attachmentsDb from '../../db/attachments';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import { volumeRefusal, type AttachmentService, type AttachMode, type Connector } from './attachments';
import { connectionInfo, settleVolumeStatus } from './state';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { volumeStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse } from '../status/move';

/**
 * The pre-3.27 attach actions (`os-reserve`, `os-initialize_connection`,
 * `os-attach`, `os-detach`, …), built on the same attachment rows and
 * tasks as the attachments API.
 */
export class LegacyAttachService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly attachments: AttachmentService,
  ) {}

  private get db() {
    return this.deps.db;
  }

  /** available (in-use for multi-attach) → attaching, with a reserved attachment row. */
  async reserve(ctx: RequestContext, volumeId: string): Promise<void> {
    requireWriter(ctx, 'volume:reserve_volume');
    await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      const t = vol.multiattach ? VolumeTransitions.legacyReserveMultiattach : VolumeTransitions.legacyReserve;
      await moveOrRefuse(trx, volumeStatus, vol.id, t, volumeRefusal(vol, t, 'to reserve'));
      await attachmentsDb.insert(trx, {
        id: randomUUID(),
        volume_id: vol.id,
        project_id: vol.project_id,
        user_id: ctx.userId,
        instance_uuid: null,
        attached_host: null,
        mountpoint: null,
        attach_mode: null,
        attach_status: AttachStatus.reserved,
        connector: null,
        connection_info: null,
        attach_time: null,
        detach_time: null,
        created_at: new Date(),
        updated_at: null,
      });
    });
  }

  /** Drops reservations that never connected; the volume settles back. */
  async unreserve(ctx: RequestContext, volumeId: string): Promise<void> {
    requireWriter(ctx, 'volume:unreserve_volume');
    await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      for (const a of await attachmentsDb.ofVolume(trx, vol.id)) {
        if (a.attach_status === AttachStatus.reserved) await attachmentsDb.remove(trx, a.id);
      }
      await settleVolumeStatus(trx, vol.id);
    });
  }

  async beginDetaching(ctx: RequestContext, volumeId: string): Promise<void> {
    await this.simpleMove(ctx, volumeId, VolumeTransitions.beginDetaching, 'volume:begin_detaching', 'to begin detaching');
  }

  async rollDetaching(ctx: RequestContext, volumeId: string): Promise<void> {
    await this.simpleMove(ctx, volumeId, VolumeTransitions.rollDetaching, 'volume:roll_detaching', 'to roll back detaching');
  }

  private async simpleMove(ctx: RequestContext, volumeId: string, t: Transition<VolumeStatus>, action: string, purpose: string) {
    requireWriter(ctx, action);
    await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      await moveOrRefuse(trx, volumeStatus, vol.id, t, volumeRefusal(vol, t, purpose));
    });
  }

  /**
   * `os-initialize_connection`: how a host reaches the volume where it is
   * now. The legacy flow names the server only later (os-attach), so
   * nothing moves here.
   */
  async initializeConnection(ctx: RequestContext, volumeId: string, connector: Connector) {
    requireWriter(ctx, 'volume:initialize_connection');
    const vol = await this.getVolume(ctx, volumeId);
    if (!vol.provider_location) throw invalidVolume(`Volume ${vol.id} has no data yet (status ${vol.status}).`);
    const mode: AttachMode = String(vol.admin_metadata.readonly ?? '').toLowerCase() === 'true' ? 'ro' : 'rw';
    const { attachment_id: _none, driver_volume_type, ...data } = connectionInfo('', mode, 'local', vol.provider_location);
    void connector;
    return { driver_volume_type, data };
  }

  /**
   * `os-terminate_connection`: a file volume has nothing to unexport, but the
   * volume must be the caller's, and a server's connection is the server's
   * to end (OSSA-2023-003: Cinder checks the volume's only attachment).
   */
  async terminateConnection(ctx: RequestContext, volumeId: string): Promise<void> {
    requireWriter(ctx, 'volume:terminate_connection');
    await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      const rows = await attachmentsDb.ofVolume(trx, vol.id);
      await this.attachments.deletionAllowed(trx, ctx, rows.length === 1 ? rows[0] : undefined, rows.length > 1);
    });
  }

  /** `os-attach`: bind the reservation to a server and connect (the data moves under it), synchronously. */
  async attach(
    ctx: RequestContext,
    volumeId: string,
    args: { instance_uuid?: string | null; host_name?: string | null; mountpoint: string; mode?: AttachMode },
  ): Promise<void> {
    requireWriter(ctx, 'volume:attach');
    if (!args.instance_uuid && !args.host_name) throw badRequest('Invalid request to attach volume to an invalid target');
    const taskId = await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      const rows = await attachmentsDb.ofVolume(trx, vol.id);
      let reservationId = rows.find((a) => a.attach_status === AttachStatus.reserved)?.id;
      if (!reservationId) {
        // Cinder's os-attach needs no os-reserve: an `available` volume attaches directly (checked on Cinder 21:
        // available → os-attach → in-use), as does a plain `attaching` one (os-reserve by an older client); an
        // in-use one only when multi-attach (the manager's "volume is already attached").
        const attachable =
          vol.status === VolumeStatus.available ||
          vol.status === VolumeStatus.attaching ||
          (vol.multiattach && vol.status === VolumeStatus.inUse);
        if (!attachable) {
          throw invalidVolume(`Volume ${vol.id} status must be available or attaching to attach, but the current status is ${vol.status}.`);
        }
        reservationId = randomUUID();
        await attachmentsDb.insert(trx, {
          id: reservationId,
          volume_id: vol.id,
          project_id: vol.project_id,
          user_id: ctx.userId,
          instance_uuid: null,
          attached_host: null,
          mountpoint: null,
          attach_mode: null,
          attach_status: AttachStatus.reserved,
          connector: null,
          connection_info: null,
          attach_time: null,
          detach_time: null,
          created_at: new Date(),
          updated_at: null,
        });
      }
      const connector: Connector = { host: args.host_name ?? null, mountpoint: args.mountpoint };
      return this.attachments.connect(trx, ctx, reservationId, vol, connector, true, {
        instanceUuid: args.instance_uuid ?? undefined,
        mountpoint: args.mountpoint,
        mode: args.mode ?? 'rw',
      });
    });
    await this.attachments.finish(taskId, 'attach');
  }

  /** `os-detach` (and admin `os-force_detach`): disconnect one attachment, synchronously. */
  async detach(ctx: RequestContext, volumeId: string, attachmentId: string | undefined, force = false): Promise<void> {
    if (force) requireAdmin(ctx, 'volume_extension:volume_admin_actions:force_detach');
    else requireWriter(ctx, 'volume:detach');
    const taskId = await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      const rows = (await attachmentsDb.ofVolume(trx, vol.id)).filter((a) => a.attach_status !== AttachStatus.reserved || force);
      const a = attachmentId ? rows.find((x) => x.id === attachmentId) : rows.length === 1 ? rows[0] : undefined;
      if (!a && !attachmentId && rows.length > 1) {
        throw invalidVolume('Detach volume failed: More than one attachment, but no attachment_id provided.');
      }
      if (!a) {
        // Cinder's manager: "Volume detach called, but volume not attached." — not an error (202): the volume's
        // status settles from what attachments remain; with none at all it is available again.
        await settleVolumeStatus(trx, vol.id);
        if (!rows.length) {
          await moveIfStill(trx, volumeStatus, vol.id, VolumeTransitions.detachedFromError, { attach_status: AttachStatus.detached });
        }
        return undefined;
      }
      // OSSA-2023-003, as Cinder's `detach`; os-force_detach is the admin's way out.
      if (!force) await this.attachments.deletionAllowed(trx, ctx, a);
      return this.attachments.disconnect(trx, ctx, a, vol, force);
    });
    if (taskId) await this.attachments.finish(taskId, 'detach');
  }

  /** Admin metadata `readonly`; Cinder allows it only on an available volume. */
  async updateReadonly(ctx: RequestContext, volumeId: string, readonly: boolean): Promise<void> {
    requireWriter(ctx, 'volume:update_readonly_flag');
    await this.db.transaction(async (trx) => {
      const vol = await this.attachments.lockVolume(trx, ctx, volumeId);
      if (vol.status !== VolumeStatus.available) {
        throw invalidVolume(`Volume ${vol.id} status must be available to update readonly flag, but the current status is ${vol.status}.`);
      }
      await volumesDb.update(trx, vol.id, { admin_metadata: { ...vol.admin_metadata, readonly: readonly ? 'True' : 'False' } });
    });
  }

  private async getVolume(ctx: RequestContext, volumeId: string): Promise<DbVolumeRow> {
    return this.db.transaction((trx) => this.attachments.lockVolume(trx, ctx, volumeId));
  }
}
