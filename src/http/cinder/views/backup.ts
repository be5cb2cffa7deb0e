import { atLeast, type ApiVersion } from '../../../domain/microversion';
import { isoCinder } from '../../../domain/time';
import type { DbBackupRow, DbBackupView } from '../../../db/backups';
import type { Links } from './links';

/**
 * Cinder's backup views (`cinder/api/views/backups.py`, v3's and the
 * controller's additions): create, update and import answer the summary;
 * show and the detail list the detail, with `metadata` from 3.43 and, for
 * admins (`backup:backup_project_attribute`), the project from 3.18 and
 * the user from 3.56. Cinder has no progress field for backups.
 */
export function backupSummary(b: Pick<DbBackupRow, 'id' | 'display_name'>, links: Links): Record<string, unknown> {
  return { id: b.id, name: b.display_name, links: links.resource('backups', b.id) };
}

export function backupDetail(b: DbBackupView, o: { version: ApiVersion; isAdmin: boolean; links: Links }): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: b.id,
    status: b.status,
    size: b.size,
    object_count: b.object_count,
    availability_zone: b.availability_zone,
    container: b.container,
    created_at: isoCinder(b.created_at),
    updated_at: isoCinder(b.updated_at),
    name: b.display_name,
    description: b.display_description,
    fail_reason: b.fail_reason,
    volume_id: b.volume_id,
    links: o.links.resource('backups', b.id),
    is_incremental: b.is_incremental,
    has_dependent_backups: Boolean(b.has_dependent_backups),
    snapshot_id: b.snapshot_id,
    data_timestamp: isoCinder(b.data_timestamp),
  };
  if (atLeast(o.version, 3, 43)) body.metadata = b.metadata ?? {};
  if (o.isAdmin && atLeast(o.version, 3, 18)) body['os-backup-project-attr:project_id'] = b.project_id;
  if (o.isAdmin && atLeast(o.version, 3, 56)) body.user_id = b.user_id;
  return body;
}
