/**
 * A server's long operations: the build (attach each mapped volume, then
 * ACTIVE) and the delete (detach everything, delete the delete_on_termination
 * volumes, remove the server folders, then gone).
 *
 * Why orchestrated here and not as one outbox task: every storage step is
 * already an outbox task (volume.create, volume.attach, volume.detach,
 * server.remove) that a worker runs with a lease and the sweeper recovers;
 * what is left is waiting for them in order and writing rows, which must not
 * occupy a backend worker (a build task waiting for the attach tasks queued
 * behind it on the same backend could starve them). So the API process that
 * accepted the request drives the operation, holding a lease on the server
 * row; if it dies, the lease runs out and any API's sweep takes over. Every
 * step is idempotent (it looks at the attachment rows before acting), and a
 * build that does not finish by its deadline ends in ERROR with a fault:
 * nothing stays in BUILD or `deleting` forever.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../../domain/errors';
import { VOLUME_MAX } from '../../domain/microversion';
import {
  AttachStatus,
  SERVER_VOLUMES_CHANGEABLE,
  ServerPowerState,
  ServerTaskState,
  ServerTransitions,
  TaskState,
  VolumeStatus,
} from '../../domain/status';
import * as attachmentsDb from '../../db/attachments';
import * as consistencyDb from '../../db/consistency';
import type { DbAttachmentRow } from '../../db/attachments';
import * as serversDb from '../../db/servers';
import type { DbBdmRow, DbServerRow, ServerFault } from '../../db/servers';
import * as volumesDb from '../../db/volumes';
import type { AttachmentService, Connector } from '../attachments/attachments';
import { SERVICE_TOKEN_ROLES, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { enqueue } from '../tasks/outbox';
import { awaitTask } from '../tasks/wait';
import type { VolumeService } from '../volumes/volumes';
import { TaskKind } from '../../domain/status';
import { serverVmState } from '../status/columns';
import { moveIfStill } from '../status/move';

export interface ServerOpsOptions {
  readonly leaseMs: number;
  readonly sweepMs: number;
  /** A build not finished this long after the request fails. */
  readonly buildTimeoutMs: number;
  /** How long to wait for one storage task (server folder removal). */
  readonly taskTimeoutMs: number;
}

/** Why an operation failed, for the server's fault. */
class OpFailed extends Error {}
/** The process is stopping: the operation is left to the next process's sweep, not failed. */
class Stopping extends Error {}

/**
 * The server's owner, as the services see the operation's calls (lookups
 * unscoped: the ids are the server's own). The compute side calls the volume
 * services as Nova calls Cinder: with a service token (`service` role), so
 * it may remove the attachments it uses (OSSA-2023-003).
 */
export function serverContext(s: Pick<DbServerRow, 'project_id' | 'user_id'>): RequestContext {
  return {
    requestId: `req-${randomUUID()}`,
    userId: s.user_id,
    projectId: s.project_id,
    roles: ['admin', 'member'],
    isAdmin: true,
    version: VOLUME_MAX,
    serviceRoles: SERVICE_TOKEN_ROLES,
  };
}

/** What the compute host tells Cinder when it connects a volume (`os-brick` connector properties). */
export const connectorFor = (s: DbServerRow, device: string | null): Connector => ({
  host: s.host,
  mountpoint: device ?? undefined,
  platform: 'x86_64',
  os_type: 'linux',
  multipath: false,
});

export class ServerOps {
  private readonly running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly attachments: AttachmentService,
    private readonly volumes: VolumeService,
    private readonly log: Logger,
    private readonly opts: ServerOpsOptions,
  ) {}

  private get db() {
    return this.deps.db;
  }

  /** Drives the server's pending operation, here, unless someone already does. */
  kick(serverId: string): void {
    if (this.stopped || this.running.has(serverId)) return;
    const p = this.drive(serverId)
      .catch((err) => {
        if (!(err instanceof Stopping)) this.log.error({ err, server: serverId }, 'server operation stopped; the sweep retries it');
      })
      .finally(() => this.running.delete(serverId));
    this.running.set(serverId, p);
  }

  /** Resolves when this process drives nothing for `serverId` (tests, CLI). */
  async settled(serverId: string): Promise<void> {
    await this.running.get(serverId);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping = this.sweep().catch((err) => this.log.error({ err }, 'server sweep failed'));
    }, this.opts.sweepMs);
    this.timer.unref();
  }

  /** Takes over operations nobody drives (a dead API's, or ones whose kick was lost), and undoes attaches whose API died. */
  async sweep(): Promise<void> {
    for (const id of await serversDb.unleased(this.db, 50)) this.kick(id);
    await this.repairAttaches();
  }

  /**
   * An attach (`POST …/os-volume_attachments`) answers only once the volume
   * is connected, and its API process keeps the mapping's `updated_at`
   * fresh meanwhile (`holdMapping`). A mapping whose attachment is still
   * incomplete and that nobody touched for two leases belongs to an API
   * that died mid-attach: its caller never got an answer, so the attach is
   * undone as a failed one is (mapping gone, reservation dropped or the
   * connection taken back by a detach task), and the volume ends available.
   */
  async repairAttaches(): Promise<number> {
    const olderThan = new Date(Date.now() - 2 * this.opts.leaseMs);
    let n = 0;
    for (const b of await consistencyDb.staleMappings(this.db, SERVER_VOLUMES_CHANGEABLE, olderThan, 50)) {
      const taskId = await this.db.transaction(async (trx) => {
        const s = await serversDb.lockServer(trx, b.server_id);
        // Checked again under the server's lock: another API may have repaired or finished it.
        const still = s && (await consistencyDb.staleMappings(trx, SERVER_VOLUMES_CHANGEABLE, olderThan, 1, b.id)).length > 0;
        if (!s || !still) return null;
        this.log.warn({ server: s.id, volume: b.volume_id, attachment: b.attachment_id }, 'undoing an attach whose API process died');
        await serversDb.removeBdm(trx, b.id);
        n++;
        const a = b.attachment_id ? await attachmentsDb.find(trx, b.attachment_id) : undefined;
        if (!a) return null;
        const ctx = serverContext(s);
        return this.attachments.disconnect(trx, ctx, a, await this.attachments.lockVolume(trx, ctx, a.volume_id), false);
      });
      if (taskId) this.deps.notifier.tasksWritten();
    }
    return n;
  }

  /** Keeps an attach's mapping fresh while this process drives it (see `repairAttaches`); call the result to stop. */
  holdMapping(bdmId: string): () => void {
    const t = setInterval(
      () => {
        consistencyDb.touchBdm(this.db, bdmId).catch((err) => this.log.warn({ err, bdm: bdmId }, 'mapping renewal failed'));
      },
      Math.max(100, this.opts.leaseMs / 3),
    );
    t.unref();
    return () => clearInterval(t);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    // Running operations finish their current wait; an unfinished one is resumed by the next process's sweep.
    await Promise.allSettled([...this.running.values()]);
  }

  private async drive(id: string): Promise<void> {
    const until = () => new Date(Date.now() + this.opts.leaseMs);
    if (!(await serversDb.claimLease(this.db, id, until()))) return;
    const renewal = setInterval(
      () => {
        serversDb.renewLease(this.db, id, until()).catch((err) => this.log.warn({ err, server: id }, 'server lease renewal failed'));
      },
      Math.max(100, this.opts.leaseMs / 3),
    );
    renewal.unref();
    try {
      for (;;) {
        const s = await serversDb.findServer(this.db, id);
        if (!s || s.task_state === null) return;
        if (s.task_state === ServerTaskState.deleting) await this.teardown(s);
        else await this.build(s);
      }
    } finally {
      clearInterval(renewal);
      await serversDb.renewLease(this.db, id, null);
    }
  }

  // --- build -------------------------------------------------------------------

  private async build(s: DbServerRow): Promise<void> {
    const deadline = s.created_at.getTime() + this.opts.buildTimeoutMs;
    try {
      for (const b of await serversDb.bdmsOf(this.db, s.id)) {
        // A delete arrived: stop building, the loop tears down instead.
        if ((await serversDb.findServer(this.db, s.id))?.task_state !== ServerTaskState.blockDeviceMapping) return;
        if (b.destination_type === 'volume' && b.volume_id) await this.ensureAttached(s, b, deadline);
      }
      await moveIfStill(this.db, serverVmState(ServerTaskState.blockDeviceMapping), s.id, ServerTransitions.buildDone, {
        task_state: null,
        power_state: ServerPowerState.running,
        launched_at: new Date(),
      });
    } catch (err) {
      if (err instanceof Stopping) throw err;
      this.log.warn({ err, server: s.id }, 'server build failed');
      await moveIfStill(this.db, serverVmState(ServerTaskState.blockDeviceMapping), s.id, ServerTransitions.buildFailed, {
        task_state: null,
        fault: fault(`Build of instance ${s.id} aborted: ${reasonOf(err)}`),
      });
    }
  }

  /**
   * Makes the mapping's volume attached to the server, whatever step an
   * earlier attempt reached: waits for the volume, reserves and connects,
   * completes. Also used by a stopped attach (serverVolumes.ts).
   */
  async ensureAttached(s: DbServerRow, b: DbBdmRow, deadline: number): Promise<void> {
    const ctx = serverContext(s);
    const vol = await this.poll(deadline, `volume ${b.volume_id}`, async () => {
      const v = await volumesDb.find(this.db, b.volume_id!, { projectId: undefined });
      if (!v) throw new OpFailed(`Volume ${b.volume_id} could not be found.`);
      return v.status === VolumeStatus.creating || v.status === VolumeStatus.downloading ? undefined : v;
    });
    // Detached meanwhile (the mapping is gone): attaching now would leave an attachment nobody maps.
    if (!(await serversDb.findBdm(this.db, s.id, vol.id))) throw new OpFailed(`Volume ${vol.id} was detached from the server.`);
    let a = (await serversDb.attachmentsOfServer(this.db, s.id)).find((x) => x.volume_id === vol.id);
    if (!a && vol.status !== VolumeStatus.available) {
      throw new OpFailed(`Volume ${vol.id} did not finish being created. And its status is ${vol.status}.`);
    }
    const connector = connectorFor(s, b.device_name);
    if (!a) a = await this.attachments.create(ctx, { volume_uuid: vol.id, instance_uuid: s.id, connector });
    else if (a.attach_status === AttachStatus.reserved || a.attach_status === AttachStatus.errorAttaching) {
      a = await this.attachments.update(ctx, a.id, connector);
    } else if (a.attach_status === AttachStatus.attaching && !a.connection_info) {
      a = await this.waitConnected(a.id, deadline);
    }
    if (a.attach_status !== AttachStatus.attached) await this.attachments.complete(ctx, a.id);
    await serversDb.updateBdm(this.db, b.id, { attachment_id: a.id });
  }

  private waitConnected(attachmentId: string, deadline: number): Promise<DbAttachmentRow> {
    return this.poll(deadline, `attachment ${attachmentId}`, async () => {
      const a = await attachmentsDb.find(this.db, attachmentId);
      if (!a || a.attach_status === AttachStatus.errorAttaching) throw new OpFailed(`The attachment ${attachmentId} failed.`);
      return a.connection_info ? a : undefined;
    });
  }

  // --- delete ------------------------------------------------------------------

  private async teardown(s: DbServerRow): Promise<void> {
    const ctx = serverContext(s);
    try {
      const deadline = Date.now() + this.opts.taskTimeoutMs;
      for (const a of await serversDb.attachmentsOfServer(this.db, s.id)) {
        if (a.attach_status === AttachStatus.detaching) await this.waitDetached(a.id, deadline);
        else await this.attachments.delete(ctx, a.id).catch(ignoreNotFound);
      }
      const bdms = await serversDb.bdmsOf(this.db, s.id);
      for (const b of bdms) {
        if (!b.delete_on_termination || !b.volume_id) continue;
        // As Nova's `_cleanup_volumes(raise_exc=False)`: a volume that will not go is logged, not fatal.
        await this.volumes.delete(ctx, b.volume_id).catch((err) => {
          if (!(err instanceof ApiError && err.status === 404))
            this.log.warn({ err, server: s.id, volume: b.volume_id }, 'delete_on_termination: volume not deleted');
        });
      }
      await this.removeFolders(s);
      await this.db.transaction(async (trx) => {
        for (const b of bdms) await serversDb.removeBdm(trx, b.id);
        await moveIfStill(trx, serverVmState(ServerTaskState.deleting), s.id, ServerTransitions.deleteDone, {
          task_state: null,
          power_state: ServerPowerState.noState,
          deleted_at: new Date(),
        });
      });
    } catch (err) {
      if (err instanceof Stopping) throw err;
      this.log.warn({ err, server: s.id }, 'server delete failed');
      await moveIfStill(this.db, serverVmState(ServerTaskState.deleting), s.id, ServerTransitions.deleteFailed, {
        task_state: null,
        fault: fault(reasonOf(err)),
      });
    }
  }

  private waitDetached(attachmentId: string, deadline: number): Promise<true> {
    return this.poll(deadline, `attachment ${attachmentId}`, async () => {
      const a = await attachmentsDb.find(this.db, attachmentId);
      if (a?.attach_status === AttachStatus.errorDetaching) throw new OpFailed(`Volume ${a.volume_id} could not be detached.`);
      return a ? undefined : true;
    });
  }

  /** One `server.remove` task per backend (a server's volumes may live on any), each awaited. */
  private async removeFolders(s: DbServerRow): Promise<void> {
    const ctx = serverContext(s);
    const tasks = await this.db.transaction(async (trx) =>
      Promise.all(
        this.deps.config.backends.map(async (b) => ({
          backend: b.name,
          id: await enqueue(trx, this.deps.config, ctx, TaskKind.serverRemove, { type: 'server', id: s.id, backend: b.name }),
        })),
      ),
    );
    this.deps.notifier.tasksWritten();
    for (const t of tasks) {
      const done = await awaitTask(this.db, t.id, this.opts.taskTimeoutMs);
      if (done.state === TaskState.failed)
        throw new OpFailed(`Could not remove the server's folder on backend ${t.backend}: ${done.last_error ?? 'failed'}`);
    }
  }

  // --- helpers -----------------------------------------------------------------

  /** Polls `fn` until it returns something, with a growing pause; past `deadline` the operation fails. */
  private async poll<T>(deadline: number, what: string, fn: () => Promise<T | undefined>): Promise<T> {
    let pause = 5;
    for (;;) {
      if (this.stopped) throw new Stopping('stopping');
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new OpFailed(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(250, pause * 2);
    }
  }
}

const ignoreNotFound = (err: unknown) => {
  if (!(err instanceof ApiError && err.status === 404)) throw err;
};

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Nova's instance fault: 500 for what went wrong in the service (`compute/utils.py:add_instance_fault_from_exc`). */
const fault = (message: string): ServerFault => ({ code: 500, message, created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
