import { randomUUID } from 'node:crypto';
import { badRequest, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import {
  SNAPSHOT_PROGRESS,
  SNAPSHOT_SOURCE,
  SNAPSHOT_SOURCE_IN_USE,
  SNAPSHOT_STATUS_UPDATES,
  SnapshotStatus,
  SnapshotTransitions,
  VolumeStatus,
  snapshotResetTarget,
  ALL_SNAPSHOT_STATUSES,
  resetTransition,
  snapshotStatusUpdate,
} from '../../domain/status';
import * as snapshotsDb from '../../db/snapshots';
import type { DbSnapshotRow, SnapshotFilters } from '../../db/snapshots';
import * as typesDb from '../../db/volumeTypes';
import * as volumesDb from '../../db/volumes';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { volumeDriverPayload } from '../backends/extstorage';
import { filterParams, parseBool, parsePaging, type ListRules, type Paging, type RawQuery } from '../listQuery';
import { chargeQuota } from '../quotas/quotas';
import { enqueue } from '../tasks/outbox';
import { checkItemBody, metadataItem, nextMetadata, withoutItem } from '../volumes/metadata';
import { scopeOf } from '../../domain/context';
import { scopedRows, setCommonFilter } from '../scopedRows';
import { TaskKind } from '../../domain/status';
import { snapshotStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse } from '../status/move';

export interface CreateSnapshotInput {
  /** Cinder's schema allows null, which is then a volume that is not found ("Volume None"). */
  volume_id: string | null;
  name?: string | null;
  display_name?: string | null;
  description?: string | null;
  display_description?: string | null;
  force?: boolean | string | null;
  metadata?: Record<string, string> | null;
}

export interface UpdateSnapshotInput {
  name?: string | null;
  display_name?: string | null;
  description?: string | null;
  display_description?: string | null;
}

/** Cinder's `progress` format: an integer 0–100 followed by `%`, e.g. `73%`. */
function isPercentage(progress: string): boolean {
  const m = /^\s*([+-]?\d+)\s*%$/.exec(progress);
  return m !== null && Number(m[1]) >= 0 && Number(m[1]) <= 100;
}

export const snapshotNotFound = (id: string) => notFound(`Snapshot ${id} could not be found.`);
export const invalidSnapshot = (reason: string) => badRequest(`Invalid snapshot: ${reason}`);

/** `cinder/api/v3/snapshots.py`: from 3.66 `force` is meaningless, and false is refused. */
const SNAPSHOT_IN_USE_FLAG_MSG =
  "Since microversion 3.66 the 'force' flag is invalid for this request. " +
  "For backward compatibility, however, a 'true' value is accepted, but a 'false' value is rejected.";

/** API sort keys → SQL; nullable text sorts as '' so keyset comparisons stay total. */
const SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'snapshots.id',
  created_at: 'snapshots.created_at',
  updated_at: 'coalesce(snapshots.updated_at, snapshots.created_at)',
  name: "coalesce(snapshots.display_name, '')",
  display_name: "coalesce(snapshots.display_name, '')",
  status: 'snapshots.status',
  size: 'snapshots.size',
  volume_id: 'snapshots.volume_id',
  project_id: 'snapshots.project_id',
};

/** `etc/cinder/resource_filters.json` "snapshot"; admins may filter on more columns. */
const USER_FILTERS = new Set(['name', 'status', 'volume_id', 'metadata', 'availability_zone', 'consumes_quota', 'display_name']);
const ADMIN_FILTERS = new Set([...USER_FILTERS, 'project_id', 'user_id']);

const snapshotRows = scopedRows(snapshotsDb, snapshotNotFound);

/**
 * Snapshots: the row and its quota charge in one transaction with the
 * `snapshot.create` task; the worker copies the data and marks it
 * available. Deletes go through `snapshot.delete` tasks.
 */
export class SnapshotService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  /** 404 unless the snapshot exists in the caller's scope (an admin sees every project's). */
  async get(ctx: RequestContext, id: string): Promise<DbSnapshotRow> {
    return snapshotRows.get(this.db, ctx, id);
  }

  /** `allowInUse`: an in-use volume may be snapshotted without `force`, which must not be false (3.66). */
  async create(ctx: RequestContext, input: CreateSnapshotInput, opts: { allowInUse: boolean }): Promise<DbSnapshotRow> {
    requireWriter(ctx, 'volume:create_snapshot');
    const force =
      input.force === undefined || input.force === null
        ? undefined
        : typeof input.force === 'boolean'
          ? input.force
          : parseBool(input.force, 'force');
    const inUseAllowed = opts.allowInUse;
    if (inUseAllowed && force === false) throw badRequest(SNAPSHOT_IN_USE_FLAG_MSG);
    const allowed = inUseAllowed || force ? SNAPSHOT_SOURCE_IN_USE : SNAPSHOT_SOURCE;
    const id = randomUUID();
    let created: DbSnapshotRow | undefined;
    await this.db.transaction(async (trx) => {
      // The volume's lock orders this create against the volume's delete (which refuses while snapshots exist).
      const vol = input.volume_id === null ? undefined : await volumesDb.lock(trx, input.volume_id, scopeOf(ctx, true));
      if (!vol) throw notFound(`Volume ${input.volume_id ?? 'None'} could not be found.`);
      if (vol.status === VolumeStatus.maintenance) {
        throw invalidVolume('The snapshot cannot be created when the volume is in maintenance mode.');
      }
      if (!allowed.includes(vol.status as VolumeStatus)) {
        throw invalidVolume(`Volume ${vol.id} status must be ${allowed.join(', ')}, but current status is: ${vol.status}.`);
      }
      const type = await typesDb.findById(trx, vol.volume_type_id);
      // Cinder reserves snapshots: 1 and the volume's size in gigabytes (no_snapshot_gb_quota=False), per type too.
      await chargeQuota(trx, ctx.projectId, {
        resource: 'snapshots',
        snapshots: 1,
        gigabytes: vol.size,
        volumeType: type ? { id: type.id, name: type.name } : undefined,
      });
      created = {
        id,
        volume_id: vol.id,
        project_id: ctx.projectId,
        user_id: ctx.userId,
        display_name: input.name ?? input.display_name ?? null,
        display_description: input.description ?? input.display_description ?? null,
        size: vol.size,
        status: SnapshotStatus.creating,
        progress: SNAPSHOT_PROGRESS.start,
        volume_type_id: vol.volume_type_id,
        metadata: input.metadata ?? {},
        provider_location: null,
        created_at: new Date(),
        updated_at: null,
      };
      await snapshotsDb.insert(trx, created);
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.snapshotCreate,
        { type: 'snapshot', id, backend: vol.backend },
        {
          ...(await volumeDriverPayload(trx, this.deps.config, vol.backend, vol.id)),
          volume_id: vol.id,
          provider_location: vol.provider_location,
          multiattach: vol.multiattach,
          source_size: vol.size,
        },
      );
    });
    this.deps.notifier.tasksWritten();
    return created!;
  }

  async list(ctx: RequestContext, q: RawQuery, rules: ListRules): Promise<{ items: DbSnapshotRow[]; paging: Paging; count?: number }> {
    const allTenants = ctx.isAdmin && q.all_tenants !== undefined && q.all_tenants !== '0' && q.all_tenants !== 'false';
    const scope = scopeOf(ctx, allTenants);
    return snapshotRows.page(this.db, scope, parsePaging(q, SORT_COLUMNS, rules), this.parseFilters(ctx, q, rules));
  }

  private parseFilters(ctx: RequestContext, q: RawQuery, rules: ListRules): SnapshotFilters {
    const f: SnapshotFilters = {};
    for (const [key, value] of filterParams(q, ctx.isAdmin ? ADMIN_FILTERS : USER_FILTERS, rules)) {
      if (setCommonFilter(f, key, value)) continue;
      switch (key) {
        // One availability zone: a snapshot is in its volume's, which is the configured one.
        case 'availability_zone':
          if (value !== this.deps.config.availabilityZone) f.impossible = true;
          break;
        case 'consumes_quota':
          if (!parseBool(value, key)) f.impossible = true;
          break;
        default:
          break;
      }
    }
    return f;
  }

  async update(ctx: RequestContext, id: string, input: UpdateSnapshotInput): Promise<DbSnapshotRow> {
    requireWriter(ctx, 'volume:update_snapshot');
    const name = input.name !== undefined ? input.name : input.display_name;
    const description = input.description !== undefined ? input.description : input.display_description;
    const fields: Partial<DbSnapshotRow> = {};
    if (name !== undefined) fields.display_name = name;
    if (description !== undefined) fields.display_description = description;
    await this.get(ctx, id);
    return (await snapshotsDb.update(this.db, id, fields))!;
  }

  /**
   * Moves the snapshot to `deleting` and queues the removal of its data.
   * `force` (os-force_delete, admin) skips the status condition, as Cinder's.
   */
  async delete(ctx: RequestContext, id: string, force = false): Promise<void> {
    requireWriter(ctx, 'volume:delete_snapshot');
    if (force) requireAdmin(ctx, 'volume_extension:snapshot_admin_actions:force_delete');
    await this.queueDelete(ctx, id, force, false);
  }

  /**
   * `os-unmanage` (admin): Cinder's `delete_snapshot(unmanage_only=True)`. The
   * same status rule and `deleting` as a delete, but the task only forgets the
   * snapshot: its row (and so its quota usage) goes, its data stays on the
   * backend at provider_location, to be managed again or removed by hand.
   */
  async unmanage(ctx: RequestContext, id: string): Promise<void> {
    requireAdmin(ctx, 'snapshot_extension:snapshot_unmanage');
    await this.queueDelete(ctx, id, false, true);
  }

  private async queueDelete(ctx: RequestContext, id: string, force: boolean, unmanageOnly: boolean): Promise<void> {
    await this.db.transaction(async (trx) => {
      const s = await snapshotRows.lock(trx, ctx, id);
      // A volume whose copy from this snapshot has not run yet would find no data.
      const busy = await snapshotsDb.volumesBeingMadeFrom(trx, { snapshotIds: [id] }, [VolumeStatus.creating]);
      if (busy.length) throw invalidSnapshot(`Snapshot ${id} is the source of volume ${busy[0]}, which is still being created.`);
      const t = force ? SnapshotTransitions.forceDelete : SnapshotTransitions.delete;
      // A group snapshot's member goes with its group snapshot (Cinder's `group_snapshot_id: None` condition, forced or not).
      const refuse = () => invalidSnapshot('Snapshot status must be available or error and must not be part of a group.');
      if (s.group_snapshot_id) throw refuse();
      await moveOrRefuse(trx, snapshotStatus, id, t, refuse);
      const vol = await volumesDb.find(trx, s.volume_id, { projectId: undefined });
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.snapshotDelete,
        { type: 'snapshot', id, backend: vol!.backend },
        {
          ...(await volumeDriverPayload(trx, this.deps.config, vol!.backend, vol!.id)),
          volume_id: s.volume_id,
          provider_location: s.provider_location,
          ...(unmanageOnly ? { unmanage_only: true } : {}),
        },
      );
    });
    this.deps.notifier.tasksWritten();
  }

  /**
   * `os-update_snapshot_status`: whoever does the snapshot's work outside
   * cairn (Nova's assisted snapshots) reports its status and progress. A
   * member of the snapshot's project or an admin may (Cinder's
   * SYSTEM_ADMIN_OR_PROJECT_MEMBER); only the moves in SNAPSHOT_STATUS_UPDATES.
   */
  async updateStatus(ctx: RequestContext, id: string, args: { status: string; progress?: string | null }): Promise<void> {
    requireWriter(ctx, 'snapshot_extension:snapshot_actions:update_snapshot_status');
    const progress = args.progress || undefined; // Cinder ignores an empty or null progress
    if (progress !== undefined && !isPercentage(progress)) throw invalidInput('progress must be an integer percentage');
    await this.db.transaction(async (trx) => {
      const s = await snapshotRows.lock(trx, ctx, id);
      const allowed = SNAPSHOT_STATUS_UPDATES[s.status as SnapshotStatus];
      if (!allowed) throw badRequest(`Snapshot status ${s.status} not allowed for update_snapshot_status`);
      if (!allowed.includes(args.status as SnapshotStatus)) {
        throw badRequest(`Provided snapshot status ${args.status} not allowed for snapshot with status ${s.status}.`);
      }
      await moveIfStill(
        trx,
        snapshotStatus,
        id,
        snapshotStatusUpdate(s.status as SnapshotStatus, args.status as SnapshotStatus),
        progress !== undefined ? { progress } : {},
      );
    });
  }

  /** `os-reset_status` (admin): any known status, lower-cased as Cinder's `validate_update`. */
  async resetStatus(ctx: RequestContext, id: string, status: unknown): Promise<void> {
    requireAdmin(ctx, 'volume_extension:snapshot_admin_actions:reset_status');
    if (typeof status !== 'string') throw badRequest("Must specify 'status'");
    const target = snapshotResetTarget(status.toLowerCase());
    if (!target) throw badRequest('Must specify a valid status');
    await this.db.transaction(async (trx) => {
      await snapshotRows.lock(trx, ctx, id);
      await moveIfStill(trx, snapshotStatus, id, resetTransition(ALL_SNAPSHOT_STATUSES, target));
    });
  }

  // --- metadata (`/snapshots/{id}/metadata`) ---------------------------------

  async getMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    return (await this.get(ctx, id)).metadata;
  }

  /** POST merges, PUT (replace=true) replaces; both answer with the whole set. */
  async setMetadata(ctx: RequestContext, id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    requireWriter(ctx, 'volume:update_snapshot_metadata');
    return this.db.transaction(async (trx) => {
      const s = await snapshotRows.lock(trx, ctx, id);
      const next = nextMetadata(s.metadata, metadata, replace);
      await snapshotsDb.update(trx, id, { metadata: next });
      return next;
    });
  }

  async getMetadataItem(ctx: RequestContext, id: string, key: string): Promise<Record<string, string>> {
    return metadataItem(await this.getMetadata(ctx, id), key);
  }

  async setMetadataItem(ctx: RequestContext, id: string, key: string, meta: Record<string, string>): Promise<Record<string, string>> {
    checkItemBody(key, meta);
    await this.setMetadata(ctx, id, meta, false);
    return meta;
  }

  async deleteMetadataItem(ctx: RequestContext, id: string, key: string): Promise<void> {
    requireWriter(ctx, 'volume:delete_snapshot_metadata');
    await this.db.transaction(async (trx) => {
      const s = await snapshotRows.lock(trx, ctx, id);
      await snapshotsDb.update(trx, id, { metadata: withoutItem(s.metadata, key) });
    });
  }
}
