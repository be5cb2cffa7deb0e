/**
 * `/servers/{id}/os-volume_attachments` (`nova/api/openstack/compute/volumes.py`,
 * `compute/api.py:attach_volume/detach_volume`) with detachable root volumes
 * (CloudStack/EC2): the root (boot index 0) may be detached only while the
 * server is stopped, and a volume attached to a stopped server that has no
 * root becomes its root. A detached root is an ordinary volume; its
 * `bootable` flag stays as it was.
 */
import { randomUUID } from 'node:crypto';
import { nextDeviceName, stripDev } from '../../domain/compute';
import { ApiError, badRequest, conflict, notFound } from '../../domain/errors';
import { SERVER_ROOT_CHANGEABLE, SERVER_VOLUMES_CHANGEABLE, ServerVmState } from '../../domain/status';
import * as attachmentsDb from '../../db/attachments';
import type { Conn } from '../../db/connection';
import * as serversDb from '../../db/servers';
import type { DbBdmRow, DbServerRow } from '../../db/servers';
import * as volumesDb from '../../db/volumes';
import { BDM_TEXT, boolFromString } from './bdm';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { one, type RawQuery } from '../listQuery';
import type { AttachmentService } from '../attachments/attachments';
import { serverContext, type ServerOps } from './serverOps';
import { hasRoot, instanceNotFound, invalidState, projectScope } from './servers';
import { swapVolume } from '../volumes/swap';

export interface AttachInput {
  volumeId: string;
  device?: string | null;
  tag?: string;
  delete_on_termination?: boolean | string;
}

export interface AttachmentUpdateInput extends AttachInput {
  id?: string;
  serverId?: string;
}

const notAttached = (serverId: string, volumeId: string) => notFound(`Instance ${serverId} is not attached to volume ${volumeId}`);
const volumeNotFound = (id: string) => notFound(`Volume ${id} could not be found.`);

export class ServerVolumeService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly ops: ServerOps,
    private readonly attachments: AttachmentService,
    private readonly attachTimeoutMs: number,
  ) {}

  private get db() {
    return this.deps.db;
  }

  private async server(conn: Conn, ctx: RequestContext, id: string, lock = false): Promise<DbServerRow> {
    const s = lock ? await serversDb.lockServer(conn, id, projectScope(ctx)) : await serversDb.findServer(conn, id, projectScope(ctx));
    if (!s) throw instanceNotFound(id);
    return s;
  }

  /** The server's volume mappings, paged by `limit`/`offset` (`common.limited`); `strictQuery`: other keys are a 400 (2.75). */
  async list(ctx: RequestContext, serverId: string, q: RawQuery, opts: { strictQuery: boolean }): Promise<DbBdmRow[]> {
    if (opts.strictQuery) {
      const extra = Object.keys(q)
        .filter((k) => k !== 'limit' && k !== 'offset')
        .sort();
      if (extra.length)
        throw badRequest(
          `Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
        );
    }
    const s = await this.server(this.db, ctx, serverId);
    const offset = Number(one(q.offset) ?? 0);
    const limit = Math.min(Number(one(q.limit) ?? 1000), 1000);
    const bdms = (await serversDb.bdmsOf(this.db, s.id)).filter((b) => b.volume_id);
    return bdms.slice(offset, offset + limit);
  }

  async show(ctx: RequestContext, serverId: string, volumeId: string): Promise<DbBdmRow> {
    const s = await this.server(this.db, ctx, serverId);
    const b = await serversDb.findBdm(this.db, s.id, volumeId);
    if (!b) throw notAttached(serverId, volumeId);
    return b;
  }

  /**
   * Reserves the volume and records the mapping in one transaction, then
   * connects and completes it before answering; a connect that fails takes
   * the mapping and the reservation back (as Nova's compute does).
   */
  /** `multiattach`: a multi-attach volume may be attached (2.60). */
  async attach(ctx: RequestContext, serverId: string, input: AttachInput, opts: { multiattach: boolean }): Promise<DbBdmRow> {
    requireWriter(ctx, 'os_compute_api:os-volumes-attachments:create');
    const { server, bdm } = await this.db.transaction(async (trx) => {
      const s = await this.server(trx, ctx, serverId, true);
      if (s.task_state !== null || !SERVER_VOLUMES_CHANGEABLE.includes(s.vm_state as ServerVmState)) invalidState(s, 'attach_volume');
      const vol = await volumesDb.find(trx, input.volumeId, { projectId: projectScope(ctx) });
      if (!vol) throw volumeNotFound(input.volumeId);
      // `_check_volume_already_attached`
      const others = await serversDb.bdmsOfVolume(trx, vol.id);
      if (others.length && !vol.multiattach) {
        throw badRequest(`Invalid volume: volume ${vol.id} is already attached to instances: ${others.map((b) => b.server_id).join(' ')}`);
      }
      if (others.some((b) => b.server_id === s.id)) throw badRequest(`Invalid volume: volume ${vol.id} already attached`);
      if (vol.multiattach && !opts.multiattach) throw badRequest(BDM_TEXT.multiattachVersion);
      const mine = await serversDb.bdmsOf(trx, s.id);
      const becomesRoot = SERVER_ROOT_CHANGEABLE.includes(s.vm_state as ServerVmState) && !hasRoot(s, mine);
      const used = [s.root_device_name, ...mine.flatMap((b) => (b.device_name ? [b.device_name] : []))];
      let device: string;
      if (becomesRoot) device = s.root_device_name;
      else if (input.device) {
        if (used.some((d) => stripDev(d) === stripDev(input.device!)))
          throw new ApiError(409, 'conflictingRequest', `The supplied device path (${input.device}) is in use.`);
        device = input.device;
      } else device = nextDeviceName(used);
      const a = await this.attachments.create(ctx, { volume_uuid: vol.id, instance_uuid: s.id }, trx).catch((err: unknown) => {
        throw err instanceof ApiError && err.status === 400 ? badRequest(`Invalid input received: ${err.message} (HTTP 400)`) : err;
      });
      const row: DbBdmRow = {
        id: randomUUID(),
        server_id: s.id,
        project_id: s.project_id,
        boot_index: becomesRoot ? 0 : null,
        device_name: device,
        source_type: 'volume',
        destination_type: 'volume',
        volume_id: vol.id,
        snapshot_id: null,
        image_id: null,
        volume_size: vol.size,
        volume_type: null,
        delete_on_termination: boolFromString(input.delete_on_termination ?? false),
        tag: input.tag ?? null,
        attachment_id: a.id,
        created_at: new Date(),
        updated_at: null,
      };
      await serversDb.insertBdm(trx, row);
      return { server: s, bdm: row };
    });
    // Until it answers, this process keeps the mapping fresh; if it dies, the sweep undoes the attach (serverOps.ts).
    const release = this.ops.holdMapping(bdm.id);
    try {
      await this.ops.ensureAttached(server, bdm, Date.now() + this.attachTimeoutMs);
    } catch (err) {
      await this.rollBack(server, bdm);
      throw err instanceof ApiError ? err : badRequest(`Volume ${bdm.volume_id} could not be attached: ${(err as Error).message}`);
    } finally {
      release();
    }
    return bdm;
  }

  private async rollBack(s: DbServerRow, b: DbBdmRow): Promise<void> {
    await serversDb.removeBdm(this.db, b.id);
    const a = (await serversDb.attachmentsOfServer(this.db, s.id)).find((x) => x.volume_id === b.volume_id);
    if (a) await this.attachments.delete(serverContext(s), a.id).catch(() => undefined);
  }

  /**
   * Forgets the mapping and queues the detach in one transaction; answers
   * before the worker moved the volume out of the server's folder (202).
   */
  async detach(ctx: RequestContext, serverId: string, volumeId: string): Promise<void> {
    requireWriter(ctx, 'os_compute_api:os-volumes-attachments:delete');
    const taskId = await this.db.transaction(async (trx) => {
      const s = await this.server(trx, ctx, serverId, true);
      const vol = await volumesDb.find(trx, volumeId, { projectId: projectScope(ctx) });
      if (!vol) throw volumeNotFound(volumeId);
      const b = await serversDb.findBdm(trx, s.id, volumeId);
      if (!b) throw notAttached(serverId, volumeId);
      if (s.task_state !== null || !SERVER_VOLUMES_CHANGEABLE.includes(s.vm_state as ServerVmState)) invalidState(s, 'detach_volume');
      // Nova always refuses (400 "Cannot detach a root device volume"); cairn allows it while the server is stopped.
      if (b.boot_index === 0 && !SERVER_ROOT_CHANGEABLE.includes(s.vm_state as ServerVmState)) {
        throw conflict(`Cannot detach the root device volume of instance ${s.id} while it is in vm_state ${s.vm_state}; stop it first`);
      }
      await serversDb.removeBdm(trx, b.id);
      const a = b.attachment_id ? await attachmentsDb.find(trx, b.attachment_id) : undefined;
      if (!a) return undefined;
      return this.attachments.disconnect(trx, ctx, a, await this.attachments.lockVolume(trx, serverContext(s), vol.id), false);
    });
    if (taskId) this.deps.notifier.tasksWritten();
  }

  /**
   * `PUT …/os-volume_attachments/{volume_id}`: with `mutable` (2.85) `delete_on_termination`
   * may change (the other properties must be what they are); a different
   * `volumeId` (and any PUT without it) asks for a swap (services/volumes/swap.ts),
   * admin-only as Nova's default policy has it.
   */
  async update(
    ctx: RequestContext,
    serverId: string,
    volumeId: string,
    att: AttachmentUpdateInput,
    opts: { mutable: boolean },
  ): Promise<void> {
    requireWriter(ctx, 'os_compute_api:os-volumes-attachments:update');
    const s = await this.server(this.db, ctx, serverId);
    const swap = !opts.mutable || att.volumeId !== volumeId;
    if (swap) requireAdmin(ctx, 'os_compute_api:os-volumes-attachments:swap');
    if (opts.mutable) {
      const b = await serversDb.findBdm(this.db, s.id, volumeId);
      if (!b) throw notFound(`No volume Block Device Mapping with id ${volumeId}.`);
      const notMutable = (p: string) => badRequest(`The ${p} property is not mutable`);
      if ('id' in att && att.id !== volumeId) throw notMutable('id');
      if ('serverId' in att && att.serverId !== s.id) throw notMutable('serverId');
      if ('device' in att && att.device !== b.device_name) throw notMutable('device');
      if ('tag' in att && att.tag !== b.tag) throw notMutable('tag');
      if ('delete_on_termination' in att) {
        await serversDb.updateBdm(this.db, b.id, { delete_on_termination: boolFromString(att.delete_on_termination) });
      }
    }
    if (swap) await swapVolume(this.deps, this.attachments, ctx, s.id, volumeId, att.volumeId);
  }
}
