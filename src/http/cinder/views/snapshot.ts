import { atLeast, type ApiVersion } from '../../../domain/microversion';
import { isoCinder } from '../../../domain/time';
import type { DbSnapshotRow } from '../../../db/snapshots';

/**
 * Cinder's snapshot views (`cinder/api/v2/views/snapshots.py`, v3's, and the
 * `os-extended-snapshot-attributes` extension). Lists show the summary;
 * create and update answer the detail; show and the detail list add the
 * extension's keys (`extended`). Snapshots have no `links`.
 */
export function snapshotSummary(s: DbSnapshotRow): Record<string, unknown> {
  return {
    id: s.id,
    created_at: isoCinder(s.created_at),
    updated_at: isoCinder(s.updated_at),
    name: s.display_name,
    description: s.display_description,
    volume_id: s.volume_id,
    status: s.status,
    size: s.size,
    metadata: s.metadata ?? {},
  };
}

export function snapshotDetail(s: DbSnapshotRow, o: { version: ApiVersion; extended: boolean }): Record<string, unknown> {
  const body = snapshotSummary(s);
  if (atLeast(o.version, 3, 14)) body.group_snapshot_id = s.group_snapshot_id ?? null;
  if (atLeast(o.version, 3, 41)) body.user_id = s.user_id;
  if (atLeast(o.version, 3, 65)) body.consumes_quota = true;
  if (o.extended) {
    body['os-extended-snapshot-attributes:project_id'] = s.project_id;
    body['os-extended-snapshot-attributes:progress'] = s.progress;
  }
  return body;
}
