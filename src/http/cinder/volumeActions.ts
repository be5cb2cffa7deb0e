import { badRequest } from '../../domain/errors';
import type { Reply, RouteRequest, RouteTable } from '../shared/http';

/** One `POST /volumes/{id}/action` verb (`os-extend`, `os-reserve`, …), given its own body part. */
export type VolumeActionHandler = (r: RouteRequest, volumeId: string, args: any) => Promise<Reply>;
export type VolumeActionTable = Record<string, VolumeActionHandler>;

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
      const handler = Object.hasOwn(actions, name) ? actions[name] : undefined;
      if (!handler) {
        throw badRequest(`There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
      }
      return handler(r, r.params.volume_id!, r.body[name]);
    },
  };
}
