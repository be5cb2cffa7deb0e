import { badRequest } from '../../domain/errors';
import { atLeast } from '../../domain/microversion';
import type { DbBackupView } from '../../db/backups';
import type { BackupService } from '../../services/backups/backups';
import { accepted, ok, type RouteRequest, type RouteTable } from '../shared/http';
import type { CinderBody, CinderRoutes } from './cinderRoutes';

type BackupActionBody = CinderBody<'backupAction'>;
type BackupActionHandler<A = unknown> = (r: RouteRequest, id: string, args: A) => Promise<void>;
import { backupDetail, backupSummary } from './views/backup';
import { listRules } from './listRules';

/** `/backups`: CRUD, lists, restore, export/import and the admin actions (`cinder/api/contrib/backups.py`, v3's). */
export function backupRoutes(backups: BackupService): RouteTable {
  const detail = (r: RouteRequest, b: DbBackupView) => backupDetail(b, { version: r.ctx.version, isAdmin: r.ctx.isAdmin, links: r.links });

  const list = (full: boolean) => async (r: RouteRequest) => {
    const { items, paging, count } = await backups.list(r.ctx, r.query, listRules(r.ctx.version));
    const body: Record<string, unknown> = { backups: items.map((b) => (full ? detail(r, b) : backupSummary(b, r.links))) };
    const last = items[items.length - 1];
    if (last && items.length >= paging.limit) body.backups_links = r.links.next(r.apiPath, r.query, last.id);
    if (count !== undefined) body.count = count;
    return ok(body);
  };

  const actions: { [A in keyof BackupActionBody]: BackupActionHandler<Exclude<BackupActionBody[A], undefined>> } = {
    'os-reset_status': (r, id, args) => backups.resetStatus(r.ctx, id, args?.status),
    'os-force_delete': (r, id) => backups.delete(r.ctx, id, true),
  };

  return {
    listBackups: list(false),
    listBackupsDetail: list(true),
    showBackup: async (r) => ok({ backup: detail(r, await backups.get(r.ctx, r.params.backup_id!)) }),
    createBackup: async (r) => {
      const keys = { metadata: atLeast(r.ctx.version, 3, 43), availabilityZone: atLeast(r.ctx.version, 3, 51) };
      return accepted({ backup: backupSummary(await backups.create(r.ctx, r.body.backup, keys), r.links) });
    },
    updateBackup: async (r) => {
      const b = await backups.update(r.ctx, r.params.backup_id!, r.body.backup ?? {}, { metadata: atLeast(r.ctx.version, 3, 43) });
      return ok({ backup: backupSummary(b, r.links) });
    },
    deleteBackup: async (r) => {
      await backups.delete(r.ctx, r.params.backup_id!);
      return accepted();
    },
    restoreBackup: async (r) => accepted({ restore: await backups.restore(r.ctx, r.params.backup_id!, r.body.restore) }),
    exportBackupRecord: async (r) => ok({ 'backup-record': await backups.exportRecord(r.ctx, r.params.backup_id!) }),
    importBackupRecord: async (r) => ({
      status: 201,
      body: { backup: backupSummary(await backups.importRecord(r.ctx, r.body['backup-record']), r.links) },
    }),
    backupAction: async (r) => {
      const name = Object.keys(r.body ?? {})[0] ?? '';
      // Own keys only: an action named like an Object.prototype member (`__proto__`) is unknown, not a function.
      // Each action's part of the body was validated against its schema: the handler's `args` type.
      const handler = Object.hasOwn(actions, name) ? (actions as Record<string, BackupActionHandler>)[name] : undefined;
      if (!handler) throw badRequest(`There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
      await handler(r, r.params.backup_id!, (r.body as Record<string, unknown>)[name]);
      return accepted();
    },
  } satisfies CinderRoutes;
}
