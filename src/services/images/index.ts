import type { Config } from '../../config';
import type { Db, Conn } from '../../db/connection';
import { KeystoneClient } from '../../auth/keystone';
import { GlanceImageService } from './glanceClient';
import { LocalImageStore } from './localStore';
import type { ImageService } from '../../domain/image';

const glanceClients = new WeakMap<Config, GlanceImageService>();

/**
 * The image service a configuration names: an external Glance
 * (`CAIRN_GLANCE_URL`), else cairn's own store on `conn` — the caller's
 * transaction where it holds one (PGlite has a single connection: a query
 * on the pool from inside a transaction would wait for itself).
 */
export function imageServiceOf(deps: { readonly db: Conn; readonly config: Config }): ImageService {
  const { config } = deps;
  if (!config.glanceUrl) return new LocalImageStore(deps.db as Db, config.imageDir, config.imageLimits);
  let client = glanceClients.get(config);
  if (!client) {
    const keystone = config.authStrategy === 'keystone' && config.keystone ? new KeystoneClient(config.keystone) : undefined;
    client = new GlanceImageService({
      url: config.glanceUrl,
      tokenFor: keystone ? async () => (await keystone.serviceToken()).token : async (c) => `${c.userId}:${c.projectId}`,
      checkVisibility: Boolean(keystone),
    });
    glanceClients.set(config, client);
  }
  return client;
}

export type { ImageService } from '../../domain/image';
