import type { RequestContext } from '../../domain/context';
import type { BackupFilters } from '../../db/backups';
import { filterParams, type ListRules, type RawQuery } from '../listQuery';
import { setCommonFilter } from '../scopedRows';

/** API sort keys → SQL; nullable text sorts as '' so keyset comparisons stay total. */
export const BACKUP_SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'backups.id',
  created_at: 'backups.created_at',
  updated_at: 'coalesce(backups.updated_at, backups.created_at)',
  name: "coalesce(backups.display_name, '')",
  display_name: "coalesce(backups.display_name, '')",
  status: 'backups.status',
  size: 'backups.size',
  volume_id: 'backups.volume_id',
  project_id: 'backups.project_id',
  container: "coalesce(backups.container, '')",
  data_timestamp: 'coalesce(backups.data_timestamp, backups.created_at)',
};

/** `etc/cinder/resource_filters.json` "backup": name, status, volume_id; admins also project and user. */
const USER_FILTERS = new Set(['name', 'status', 'volume_id', 'display_name']);
const ADMIN_FILTERS = new Set([...USER_FILTERS, 'project_id', 'user_id', 'availability_zone', 'metadata']);

/** The filters of a backup list's query: the user's or the admin's set. */
export function backupFilters(ctx: RequestContext, q: RawQuery, rules: ListRules): BackupFilters {
  const f: BackupFilters = {};
  for (const [key, value] of filterParams(q, ctx.isAdmin ? ADMIN_FILTERS : USER_FILTERS, rules)) {
    if (!setCommonFilter(f, key, value) && key === 'availability_zone') f.availability_zone = value;
  }
  return f;
}
