import * as volumesDb from '../db/volumes';
import type { RequestContext } from './context';
import type { ServiceDeps } from './deps';

/** Cinder's default quotas (`cinder/quota.py`), until per-project quotas exist. */
export const DEFAULT_QUOTAS = {
  volumes: 10, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, groups: 10, per_volume_gigabytes: -1,
} as const;

export class LimitsService {
  constructor(private readonly deps: ServiceDeps) {}

  /** `GET /limits`: absolute limits and what the project uses now, summed from its volumes. */
  async absolute(ctx: RequestContext): Promise<Record<string, number>> {
    const used = await volumesDb.summary(this.deps.db, { projectId: ctx.projectId });
    return {
      maxTotalVolumes: DEFAULT_QUOTAS.volumes,
      maxTotalSnapshots: DEFAULT_QUOTAS.snapshots,
      maxTotalVolumeGigabytes: DEFAULT_QUOTAS.gigabytes,
      maxTotalBackups: DEFAULT_QUOTAS.backups,
      maxTotalBackupGigabytes: DEFAULT_QUOTAS.backup_gigabytes,
      totalVolumesUsed: used.count,
      totalGigabytesUsed: used.size,
      totalSnapshotsUsed: 0,
      totalBackupsUsed: 0,
      totalBackupGigabytesUsed: 0,
    };
  }
}
