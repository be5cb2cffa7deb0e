import { randomUUID } from 'node:crypto';
import {
  badRequest,
  conflictNovaUsingAttachment,
  invalidVolume,
  isDatabaseUnavailable,
  notFound,
  OutcomeUnread,
} from '../../domain/errors';
import type { DbTaskRow } from '../../db/tasks';
import {
  AttachmentTransitions,
  AttachStatus,
  TaskState,
  VolumeTransitions,
  type Transition,
  type VolumeStatus,
  TaskKind,
} from '../../domain/status';
import type { Conn, Tx } from '../../db/connection';
import * as attachmentsDb from '../../db/attachments';
import type { DbAttachmentRow } from '../../db/attachments';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import * as serversDb from '../../db/servers';
import { isServiceRequest, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { filterParams, parsePaging, type ListRules, type RawQuery } from '../listQuery';
import { forcedDetachSettled, settleVolumeStatus, type AttachPayload } from './state';
import { enqueue } from '../tasks/outbox';
import { awaitTask } from '../tasks/wait';
import { scopeOf } from '../../domain/context';
import { attachmentStatus, volumeStatus } from '../status/columns';
import { moveOrRefuse, type Refusal } from '../status/move';

/** Cinder's wording when a volume's status does not allow an attachment step (`purpose`: "to attach"…). */
export const volumeRefusal =
  (vol: DbVolumeRow, t: Transition<VolumeStatus>, purpose: string): Refusal =>
  () =>
    invalidVolume(`Volume ${vol.id} status must be ${t.from.join(' or ')} ${purpose}, but the current status is ${vol.status}.`);

/** … and when the attachment's own status does not. */
const attachmentRefusal =
  (a: DbAttachmentRow, t: Transition<AttachStatus>): Refusal =>
  () =>
    invalidVolume(`Attachment ${a.id} status must be ${t.from.join(' or ')}, but the current status is ${a.attach_status}.`);

export type Connector = Record<string, unknown>;
export type AttachMode = 'rw' | 'ro';

const ATTACHMENT_FILTERS = new Set(['volume_id', 'status', 'instance_id', 'attach_status']);
const SORT = { created_at: 'volume_attachments.created_at', id: 'volume_attachments.id' };

export const attachmentNotFound = (id: string) => notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);

const isReadonly = (v: DbVolumeRow) => String(v.admin_metadata.readonly ?? '').toLowerCase() === 'true';

/**
 * Attachments: reserve, connect (the worker moves the data and reports how
 * to reach it), complete, disconnect. Volume status follows the attachment
 * rows, changed by compare-and-set in the same transaction.
 */
export class AttachmentService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async get(ctx: RequestContext, id: string, conn: Conn = this.db): Promise<DbAttachmentRow> {
    const a = await attachmentsDb.find(conn, id, scopeOf(ctx, true).projectId);
    if (!a) throw attachmentNotFound(id);
    return a;
  }

  async list(ctx: RequestContext, q: RawQuery, rules: ListRules): Promise<DbAttachmentRow[]> {
    const allTenants = ctx.isAdmin && q.all_tenants !== undefined;
    const params = filterParams(q, ATTACHMENT_FILTERS, rules);
    const paging = parsePaging({ limit: q.limit, marker: q.marker }, SORT, rules);
    return attachmentsDb.list(
      this.db,
      {
        projectId: scopeOf(ctx, allTenants).projectId,
        volume_id: params.get('volume_id'),
        instance_id: params.get('instance_id'),
        attach_status: params.get('attach_status') ?? params.get('status'),
      },
      paging.limit,
      paging.marker,
    );
  }

  /**
   * `POST /attachments`: reserve, and connect too when a connector is given. Inside `outer`, the caller's
   * transaction, when given (its own is then a savepoint): a reservation the caller commits with its own rows.
   */
  async create(
    ctx: RequestContext,
    input: { volume_uuid: string; instance_uuid?: string | null; connector?: Connector | null; mode?: AttachMode | null },
    outer?: Tx,
  ): Promise<DbAttachmentRow> {
    requireWriter(ctx, 'volume:attachment_create');
    const id = randomUUID();
    const taskId = await (outer ?? this.db).transaction(async (trx) => {
      const vol = await this.lockVolume(trx, ctx, input.volume_uuid);
      await this.checkInstance(trx, ctx, input.instance_uuid);
      if (input.mode === 'rw' && isReadonly(vol)) throw invalidVolume(`Invalid attaching mode rw for readonly volume ${vol.id}.`);
      const t = vol.multiattach ? VolumeTransitions.reserveMultiattach : VolumeTransitions.reserve;
      await moveOrRefuse(trx, volumeStatus, vol.id, t, volumeRefusal(vol, t, 'to reserve'));
      await attachmentsDb.insert(trx, {
        id,
        volume_id: vol.id,
        project_id: vol.project_id,
        user_id: ctx.userId,
        instance_uuid: input.instance_uuid ?? null,
        attached_host: null,
        mountpoint: null,
        attach_mode: input.mode ?? null,
        attach_status: AttachStatus.reserved,
        connector: null,
        connection_info: null,
        attach_time: null,
        detach_time: null,
        created_at: new Date(),
        updated_at: null,
      });
      // As Cinder's `if connector:`, an empty connector (cinderclient's and OSC's without --connect) only reserves.
      return input.connector && Object.keys(input.connector).length > 0
        ? this.connect(trx, ctx, id, vol, input.connector, false)
        : undefined;
    });
    // Committed: the attach happens. An outcome the database outage hides is answered as accepted (202, attaching).
    const unread = () =>
      new OutcomeUnread({
        id,
        volume_id: input.volume_uuid,
        instance_uuid: input.instance_uuid ?? null,
        attach_status: AttachStatus.attaching,
        attach_mode: input.mode ?? null,
        connector: input.connector ?? null,
        connection_info: null,
        attached_host: null,
        mountpoint: null,
        attach_time: null,
        detach_time: null,
        created_at: new Date(),
        updated_at: null,
        user_id: ctx.userId,
        project_id: ctx.projectId,
      } satisfies Partial<DbAttachmentRow>);
    if (taskId && !(await this.finish(taskId, 'connect'))) throw unread();
    return this.get(ctx, id, outer).catch((err: unknown) => {
      throw isDatabaseUnavailable(err) ? unread() : err;
    });
  }

  /** `PUT /attachments/{id}` with a connector: the backend connects and answers connection_info. */
  async update(ctx: RequestContext, id: string, connector: Connector): Promise<DbAttachmentRow> {
    requireWriter(ctx, 'volume:attachment_update');
    const taskId = await this.db.transaction(async (trx) => {
      const a = await this.get(ctx, id, trx);
      const vol = await this.lockVolume(trx, ctx, a.volume_id);
      return this.connect(trx, ctx, id, vol, connector, false);
    });
    if (!(await this.finish(taskId, 'connect'))) throw new OutcomeUnread();
    return this.get(ctx, id);
  }

  /** `os-complete` (3.44): the host has attached the volume. */
  async complete(ctx: RequestContext, id: string): Promise<void> {
    requireWriter(ctx, 'volume:attachment_complete');
    await this.db.transaction(async (trx) => {
      const a = await this.get(ctx, id, trx);
      await this.lockVolume(trx, ctx, a.volume_id);
      const t = AttachmentTransitions.complete;
      await moveOrRefuse(trx, attachmentStatus, id, t, attachmentRefusal(a, t), { attach_time: a.attach_time ?? new Date() });
      await settleVolumeStatus(trx, a.volume_id);
    });
  }

  /** `DELETE /attachments/{id}`: disconnect (in the worker) and forget; answers the volume's remaining attachments. */
  async delete(ctx: RequestContext, id: string, force = false): Promise<DbAttachmentRow[]> {
    requireWriter(ctx, 'volume:attachment_delete');
    const { volumeId, taskId } = await this.db.transaction(async (trx) => {
      const a = await this.get(ctx, id, trx);
      const vol = await this.lockVolume(trx, ctx, a.volume_id);
      await this.deletionAllowed(trx, ctx, a);
      return { volumeId: vol.id, taskId: await this.disconnect(trx, ctx, a, vol, force) };
    });
    if (taskId) await this.finish(taskId, 'disconnect');
    return (await attachmentsDb.ofVolume(this.db, volumeId)).filter((x) => x.id !== id);
  }

  /**
   * Moves the attachment to attaching and queues the backend connect, in
   * the caller's transaction. `complete` (legacy os-attach) marks it
   * attached once connected. Returns the task to wait for.
   */
  async connect(
    trx: Tx,
    ctx: RequestContext,
    id: string,
    vol: DbVolumeRow,
    connector: Connector,
    complete: boolean,
    extra: { instanceUuid?: string; mountpoint?: string; mode?: AttachMode } = {},
  ): Promise<string> {
    const a = await attachmentsDb.find(trx, id);
    if (!a) throw attachmentNotFound(id);
    await this.checkInstance(trx, ctx, extra.instanceUuid);
    const mode: AttachMode = extra.mode ?? a.attach_mode ?? (isReadonly(vol) ? 'ro' : 'rw');
    if (mode === 'rw' && isReadonly(vol)) throw invalidVolume(`Invalid attaching mode rw for readonly volume ${vol.id}.`);
    const t = AttachmentTransitions.connect;
    const moved = await moveOrRefuse(trx, attachmentStatus, id, t, attachmentRefusal(a, t), {
      connector,
      instance_uuid: extra.instanceUuid ?? a.instance_uuid,
      attached_host: typeof connector.host === 'string' ? connector.host : a.attached_host,
      mountpoint: extra.mountpoint ?? (typeof connector.mountpoint === 'string' ? connector.mountpoint : a.mountpoint),
      ...(extra.mode ? { attach_mode: extra.mode } : {}),
    });
    await moveOrRefuse(trx, volumeStatus, vol.id, VolumeTransitions.connect, volumeRefusal(vol, VolumeTransitions.connect, 'to attach'));
    const payload: AttachPayload = {
      attachment_id: id,
      server_id: moved.instance_uuid ?? '',
      mode,
      multiattach: vol.multiattach,
      provider_location: vol.provider_location,
      complete,
    };
    const taskId = await enqueue(
      trx,
      this.deps.config,
      ctx,
      TaskKind.volumeAttach,
      { type: 'volume', id: vol.id, backend: vol.backend },
      { ...payload },
    );
    return taskId;
  }

  /** Queues the disconnect of an attachment (a bare reservation is just dropped). Returns the task, if any. */
  async disconnect(trx: Tx, ctx: RequestContext, a: DbAttachmentRow, vol: DbVolumeRow, force: boolean): Promise<string | undefined> {
    if (a.attach_status === AttachStatus.reserved || (a.connection_info === null && a.attach_status !== AttachStatus.attaching)) {
      await attachmentsDb.remove(trx, a.id);
      await settleVolumeStatus(trx, vol.id);
      if (force) await forcedDetachSettled(trx, vol.id);
      return undefined;
    }
    const t = AttachmentTransitions.detach;
    // The refusal names the unforced statuses, as Cinder's.
    await moveOrRefuse(trx, attachmentStatus, a.id, force ? AttachmentTransitions.forceDetach : t, attachmentRefusal(a, t), {
      detach_time: new Date(),
    });
    if (!force)
      await moveOrRefuse(trx, volumeStatus, vol.id, VolumeTransitions.detach, volumeRefusal(vol, VolumeTransitions.detach, 'to detach'));
    const payload: AttachPayload = {
      attachment_id: a.id,
      server_id: a.instance_uuid ?? '',
      mode: a.attach_mode ?? 'rw',
      multiattach: vol.multiattach,
      provider_location: vol.provider_location,
      complete: false,
      ...(force ? { forced: true } : {}),
    };
    return enqueue(trx, this.deps.config, ctx, TaskKind.volumeDetach, { type: 'volume', id: vol.id, backend: vol.backend }, { ...payload });
  }

  /**
   * OSSA-2023-003 (Cinder `attachment_deletion_allowed`): removing, as a
   * user, an attachment a server still uses would leave the volume exposed
   * on its host, so it is refused (409) unless the caller is a service
   * (a service token: Nova, or cairn's own compute side). Allowed: no
   * attachment in question, one without server or connection, or one the
   * server's mapping does not name. `undefined` with `ambiguous`: a
   * volume-level call on a volume with several attachments, which Cinder
   * refuses outright.
   */
  async deletionAllowed(trx: Conn, ctx: RequestContext, a: DbAttachmentRow | undefined, ambiguous = false): Promise<void> {
    if (isServiceRequest(ctx)) return;
    if (!a) {
      if (ambiguous) throw conflictNovaUsingAttachment(null);
      return;
    }
    if (!a.instance_uuid || !a.connection_info) return;
    const server = await serversDb.findServer(trx, a.instance_uuid);
    const bdm = server && (await serversDb.findBdm(trx, server.id, a.volume_id));
    if (bdm?.attachment_id === a.id) throw conflictNovaUsingAttachment(a.instance_uuid);
  }

  /**
   * An attachment's server: the caller's own, or one cairn's compute API does not know (a Nova elsewhere names its
   * servers). Another project's server is refused as Nova refuses a server the caller cannot see (404,
   * InstanceNotFound): otherwise the file driver would move the volume under that server and the other project's
   * server delete would detach it. Admins and services (Nova's service token, cairn's compute side) are not held.
   */
  private async checkInstance(conn: Conn, ctx: RequestContext, instanceUuid: string | null | undefined): Promise<void> {
    if (!instanceUuid || ctx.isAdmin || isServiceRequest(ctx)) return;
    const server = await serversDb.findServer(conn, instanceUuid);
    if (server && server.project_id !== ctx.projectId) throw notFound(`Instance ${instanceUuid} could not be found.`);
  }

  async lockVolume(trx: Tx, ctx: RequestContext, volumeId: string): Promise<DbVolumeRow> {
    const vol = await volumesDb.lock(trx, volumeId, scopeOf(ctx, true));
    if (!vol) throw notFound(`Volume ${volumeId} could not be found.`);
    return vol;
  }

  /**
   * Publishes the task's row and waits for its outcome; a failed connect or
   * disconnect is the caller's error. False when the outcome could not be
   * read (the database went away while waiting): the task was committed and
   * goes on, so the caller answers "accepted", never a failure.
   */
  async finish(taskId: string, what: string): Promise<boolean> {
    this.deps.notifier.tasksWritten();
    let task: DbTaskRow;
    try {
      task = await awaitTask(this.db, taskId);
    } catch (err) {
      // The outcome could not be read in time (a database outage, a backend busy with the volume's earlier tasks).
      if (isDatabaseUnavailable(err) || err instanceof OutcomeUnread) return false;
      throw err;
    }
    if (task.state === TaskState.failed) throw badRequest(`Unable to ${what} the volume: ${task.last_error ?? 'the backend failed'}`);
    return true;
  }
}
