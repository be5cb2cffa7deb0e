import { notFound } from '../../domain/errors';
import * as actionsDb from '../../db/instanceActions';
import type { DbInstanceActionRow } from '../../db/instanceActions';
import * as serversDb from '../../db/servers';
import type { DbServerRow } from '../../db/servers';
import type { RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { instanceNotFound, projectScope } from './servers';

/** What cairn records, by Nova's action name: the event name of its one step (`compute/manager.py` wrappers). */
export const ACTION_EVENTS = {
  create: 'compute__do_build_and_run_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  attach_volume: 'compute_attach_volume',
  detach_volume: 'compute_detach_volume',
  swap_volume: 'compute_swap_volume',
  extend_volume: 'compute_extend_volume',
} as const;
export type RecordedAction = keyof typeof ACTION_EVENTS;

/** Nova's instance actions (`os-instance-actions`): what requests did to a server, and each step's outcome. */
export class InstanceActionService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Records a request's action on a server once it has done it. */
  async record(ctx: RequestContext, serverId: string, action: RecordedAction): Promise<void> {
    const s = await serversDb.findServerEvenDeleted(this.deps.db, serverId);
    if (!s) return;
    await actionsDb.record(this.deps.db, {
      serverId,
      projectId: s.project_id,
      userId: ctx.userId,
      requestId: ctx.requestId,
      action,
      event: ACTION_EVENTS[action],
    });
  }

  /**
   * Nova reads the server with read_deleted='yes' here from 2.21 (`deletedServers`): a deleted server's actions
   * stay readable.
   */
  private async server(ctx: RequestContext, id: string, opts: { deletedServers: boolean }): Promise<DbServerRow> {
    const s = await serversDb.findServerEvenDeleted(this.deps.db, id, projectScope(ctx));
    if (!s || (s.deleted_at && !opts.deletedServers)) throw instanceNotFound(id);
    return s;
  }

  async list(ctx: RequestContext, serverId: string, opts: { deletedServers: boolean }): Promise<DbInstanceActionRow[]> {
    const s = await this.server(ctx, serverId, opts);
    return actionsDb.ofServer(this.deps.db, s.id);
  }

  /** The action with its events, and its server (the events' host). */
  async show(
    ctx: RequestContext,
    serverId: string,
    requestId: string,
    opts: { deletedServers: boolean },
  ): Promise<{ action: DbInstanceActionRow; server: DbServerRow }> {
    const s = await this.server(ctx, serverId, opts);
    const a = await actionsDb.byRequest(this.deps.db, s.id, requestId);
    if (!a) throw notFound(`Action for request_id ${requestId} on instance ${serverId} not found`);
    return { action: a, server: s };
  }
}
