import type { DbMessageRow } from '../../db/messages';
import { atLeast } from '../../domain/microversion';
import { isoCinder } from '../../domain/time';
import type { MessageQueries } from '../../services/messages/queries';
import { noContent, ok, type RouteRequest, type RouteTable } from '../shared/http';
import { listRules } from './listRules';
import type { CinderRoutes } from './cinderRoutes';

/** Cinder's message view (`cinder/api/v3/views/messages.py`). */
function messageView(m: DbMessageRow, r: RouteRequest) {
  return {
    id: m.id,
    event_id: m.event_id,
    user_message: m.user_message,
    message_level: m.message_level,
    created_at: isoCinder(m.created_at),
    guaranteed_until: isoCinder(m.expires_at),
    request_id: m.request_id,
    links: r.links.resource('messages', m.id),
    resource_type: m.resource_type,
    resource_uuid: m.resource_uuid,
  };
}

export function messageRoutes(messages: MessageQueries): RouteTable {
  return {
    listMessages: async (r) => {
      const rules = { ...listRules(r.ctx.version), paged: atLeast(r.ctx.version, 3, 5) };
      return ok({ messages: (await messages.list(r.ctx, r.query, rules)).map((m) => messageView(m, r)) });
    },
    showMessage: async (r) => ok({ message: messageView(await messages.get(r.ctx, r.params.message_id!), r) }),
    deleteMessage: async (r) => {
      await messages.delete(r.ctx, r.params.message_id!);
      return noContent();
    },
  } satisfies CinderRoutes;
}
