import type express from 'express';
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Db } from '../../db/connection';
import type { Authenticator } from '../../auth/identity';
import { imageRoutes } from './routes';
import { imageRouter } from './app';
import { GlanceApi } from '../../services/images/glanceApi';
import { LocalImageStore } from '../../services/images/localStore';

/** cairn's own Glance subset, for an API process without an external Glance; mounted at `/v2` by createApp. */
export function createImageApi(deps: { db: Db; config: Config }, authenticate: Authenticator, log: Logger): express.Router {
  const store = new LocalImageStore(deps.db, deps.config.imageDir, deps.config.imageLimits);
  return imageRouter({
    routes: imageRoutes(new GlanceApi(store), async (id) => fs.createReadStream(store.dataPath(id))),
    authenticate,
    log,
  });
}
