import { createHash } from 'node:crypto';
import { notFound } from '../../domain/errors';
import { atLeast } from '../../domain/microversion';
import * as actionsDb from '../../db/instanceActions';
import type { DbInstanceActionRow } from '../../db/instanceActions';
import * as serversDb from '../../db/servers';
import type { DbServerRow } from '../../db/servers';
import { isoCinder } from '../../domain/time';
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
      serverId, projectId: s.project_id, userId: ctx.userId, requestId: ctx.requestId, action, event: ACTION_EVENTS[action],
    });
  }

  /** Nova reads the server with read_deleted='yes' here (2.21): a deleted server's actions stay readable. */
  private async server(ctx: RequestContext, id: string): Promise<DbServerRow> {
    const s = await serversDb.findServerEvenDeleted(this.deps.db, id, projectScope(ctx));
    if (!s || (s.deleted_at && !atLeast(ctx.version, 2, 21))) throw instanceNotFound(id);
    return s;
  }

  async list(ctx: RequestContext, serverId: string): Promise<Record<string, unknown>[]> {
    const s = await this.server(ctx, serverId);
    return (await actionsDb.ofServer(this.deps.db, s.id)).map((a) => actionView(a, ctx));
  }

  async show(ctx: RequestContext, serverId: string, requestId: string): Promise<Record<string, unknown>> {
    const s = await this.server(ctx, serverId);
    const a = await actionsDb.byRequest(this.deps.db, s.id, requestId);
    if (!a) throw notFound(`Action for request_id ${requestId} on instance ${serverId} not found`);
    const out = actionView(a, ctx);
    // Events: admins always; everyone from 2.51, without the traceback (policy `os-instance-actions:events`).
    if (ctx.isAdmin || atLeast(ctx.version, 2, 51)) {
      out.events = a.events.map((e) => {
        const ev: Record<string, unknown> = { event: e.event, start_time: isoCinder(e.start_time), finish_time: isoCinder(e.finish_time), result: e.result };
        if (ctx.isAdmin) ev.traceback = e.traceback;
        if (atLeast(ctx.version, 2, 62)) {
          ev.hostId = createHash('sha224').update(s.project_id + s.host).digest('hex');
          if (ctx.isAdmin) ev.host = s.host;
        }
        return ev;
      });
    }
    return out;
  }
}

function actionView(a: DbInstanceActionRow, ctx: RequestContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    action: a.action, instance_uuid: a.server_id, message: a.message, project_id: a.project_id, request_id: a.request_id,
    start_time: isoCinder(a.start_time), user_id: a.user_id,
  };
  if (atLeast(ctx.version, 2, 58)) out.updated_at = isoCinder(a.updated_at);
  return out;
}
