import { invalidInput } from '../../domain/errors';
import type { RequestContext } from '../../domain/context';
import type { VolumeFilters } from '../../db/volumes';
import { filterParams, parseBool, parseMetadataFilter, type ListRules, type RawQuery } from '../listQuery';

/** API sort keys → SQL; nullable text sorts as '' so keyset comparisons stay total. */
export const VOLUME_SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'volumes.id',
  created_at: 'volumes.created_at',
  updated_at: 'coalesce(volumes.updated_at, volumes.created_at)',
  name: "coalesce(volumes.display_name, '')",
  display_name: "coalesce(volumes.display_name, '')",
  description: "coalesce(volumes.display_description, '')",
  size: 'volumes.size',
  status: 'volumes.status',
  availability_zone: 'volumes.availability_zone',
  bootable: 'volumes.bootable',
  volume_type_id: 'volumes.volume_type_id',
  project_id: 'volumes.project_id',
  user_id: 'volumes.user_id',
  host: 'volumes.host',
};

const USER_FILTERS = new Set([
  'name',
  'status',
  'metadata',
  'bootable',
  'migration_status',
  'availability_zone',
  'group_id',
  'size',
  'created_at',
  'updated_at',
  'consumes_quota',
  'display_name',
]);
const ADMIN_FILTERS = new Set([
  ...USER_FILTERS,
  'project_id',
  'host',
  'user_id',
  'volume_type_id',
  'volume_type',
  'attach_status',
  'display_description',
  'description',
]);

/** A volume list's rules: a `bootable` filter is a strict boolean from 3.2. */
export type VolumeListRules = ListRules & { readonly strictBootable: boolean };

const TIME_OPS: Record<string, '>' | '>=' | '<' | '<=' | '=' | '<>'> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '<>' };

/** The filters of a volume list's query: the user's or the admin's set, with Cinder's readings of each value. */
export function volumeFilters(ctx: RequestContext, q: RawQuery, rules: VolumeListRules): VolumeFilters {
  const params = filterParams(q, ctx.isAdmin ? ADMIN_FILTERS : USER_FILTERS, rules);
  const f: VolumeFilters = {};
  for (const [key, value] of params) {
    switch (key) {
      case 'name':
      case 'display_name':
        f.display_name = value;
        break;
      case 'name~':
      case 'display_name~':
        f.display_name_like = value;
        break;
      case 'status':
        f.status = value;
        break;
      case 'metadata':
        f.metadata = parseMetadataFilter(value);
        break;
      case 'bootable':
        // Not strict (before 3.2), anything but a spelling of false means true (Cinder's quirk).
        f.bootable = rules.strictBootable ? parseBool(value, 'bootable') : !['False', 'false', 'FALSE', '0'].includes(value);
        break;
      case 'availability_zone':
        f.availability_zone = value;
        break;
      case 'size':
        if (!/^\d+$/.test(value)) throw invalidInput(`Invalid size filter: ${value}`);
        f.size = Number(value);
        break;
      case 'created_at':
      case 'updated_at':
        f.times = [...(f.times ?? []), ...parseTimeFilter(key, value)];
        break;
      case 'consumes_quota':
        if (!parseBool(value, key)) f.impossible = true;
        break;
      case 'migration_status':
        f.impossible = true;
        break;
      case 'group_id':
        f.group_id = value;
        break;
      case 'project_id':
        f.project_id = value;
        break;
      case 'user_id':
        f.user_id = value;
        break;
      case 'host':
        f.host = value;
        break;
      case 'volume_type_id':
      case 'volume_type':
        f.volume_type_id = value;
        break;
      default:
        break;
    }
  }
  return f;
}

/** `created_at=gt:2020-01-01T00:00:00,lte:…` (3.60). */
function parseTimeFilter(col: 'created_at' | 'updated_at', value: string): NonNullable<VolumeFilters['times']> {
  return value.split(',').map((part) => {
    const idx = part.indexOf(':');
    const op = TIME_OPS[part.slice(0, idx)];
    const when = new Date(part.slice(idx + 1));
    if (idx < 0 || !op || Number.isNaN(when.getTime())) throw invalidInput(`Invalid ${col} filter: ${value}`);
    return [col, op, when];
  });
}
