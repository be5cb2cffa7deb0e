import { notFound } from '../../domain/errors';
import * as messagesDb from '../../db/messages';
import type { DbMessageRow } from '../../db/messages';
import { requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { filterParams, MAX_LIMIT, parsePaging, type ListRules, type RawQuery } from '../listQuery';
import { scopeOf } from '../../domain/context';

const MESSAGE_FILTERS = new Set(['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level']);

/** User messages (`/messages`, 3.3): what failed in the background and why; expired ones are hidden. */
export class MessageQueries {
  constructor(private readonly deps: ServiceDeps) {}

  /** `paged`: `limit` and `marker` are read (3.5). */
  async list(ctx: RequestContext, q: RawQuery, rules: ListRules & { readonly paged: boolean }): Promise<DbMessageRow[]> {
    const f = filterParams(q, MESSAGE_FILTERS, rules);
    const paging = rules.paged
      ? parsePaging({ limit: q.limit, marker: q.marker }, { created_at: 'messages.created_at' }, rules)
      : undefined;
    return messagesDb.page(
      this.deps.db,
      scopeOf(ctx, q.all_tenants !== undefined).projectId,
      Object.fromEntries(f),
      paging?.limit ?? MAX_LIMIT,
      paging?.marker,
    );
  }

  async get(ctx: RequestContext, id: string): Promise<DbMessageRow> {
    const m = await messagesDb.find(this.deps.db, id, scopeOf(ctx, true).projectId);
    if (!m || m.expires_at.getTime() <= Date.now()) throw notFound(`Message ${id} could not be found.`);
    return m;
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    requireWriter(ctx, 'message:delete');
    await this.get(ctx, id);
    await messagesDb.remove(this.deps.db, id);
  }
}
