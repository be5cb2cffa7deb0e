import { badRequest } from '../../domain/errors';
import type { Reply, RouteRequest, RouteTable } from '../shared/http';
import type { CinderRoutes, CinderSchema } from './cinderRoutes';

type VolumeActionBody = CinderSchema<'VolumeActionRequest'>;
/** One `POST /volumes/{id}/action` verb (`os-extend`, `os-reserve`, …), given its own body part (A). */
export type VolumeActionHandler<A = unknown> = (r: RouteRequest<VolumeActionBody>, volumeId: string, args: A) => Promise<Reply>;
/** The verbs by name, each with its part's type from the document (which validated it). */
export type VolumeActionTable = { [K in keyof VolumeActionBody]?: VolumeActionHandler<Exclude<VolumeActionBody[K], undefined>> };

/**
 * Dispatches the action endpoint by the body's single key. The OpenAPI
 * document validates each known action's arguments; an unknown one gets
 * Cinder's text.
 */
export function volumeActionRoutes(...tables: VolumeActionTable[]): RouteTable {
  const actions: VolumeActionTable = Object.assign({}, ...tables);
  return {
    volumeAction: async (r) => {
      const name = Object.keys(r.body ?? {})[0] ?? '';
      // Own keys only: an action named like an Object.prototype member (`constructor`) is unknown, not a function.
      const handler = Object.hasOwn(actions, name) ? (actions as Record<string, VolumeActionHandler>)[name] : undefined;
      if (!handler) {
        throw badRequest(`There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
      }
      return handler(r, r.params.volume_id!, (r.body as Record<string, unknown>)[name]);
    },
  } satisfies CinderRoutes;
}
