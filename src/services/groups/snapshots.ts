import { randomUUID } from 'node:crypto';
import { badRequest, invalidVolume } from '../../domain/errors';
import { SNAPSHOT_PROGRESS, SnapshotStatus, SnapshotTransitions, VolumeStatus, TaskKind } from '../../domain/status';
import {
  ALL_GROUP_SNAPSHOT_STATUSES,
  GROUP_SNAPSHOT_SOURCE,
  GroupSnapshotStatus,
  GroupSnapshotTransitions,
  GroupStatus,
  groupResetTarget,
} from '../../domain/status/group';
import * as groupsDb from '../../db/groups';
import * as groupSnapshotsDb from '../../db/groupSnapshots';
import type { DbGroupSnapshotRow } from '../../db/groupSnapshots';
import * as snapshotsDb from '../../db/snapshots';
import type { DbSnapshotRow } from '../../db/snapshots';
import * as typesDb from '../../db/volumeTypes';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow } from '../../db/volumes';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { volumeDriverPayload } from '../backends/extstorage';
import { groupNotFound, groupScope, pyTuple } from './groups';
import { groupSnapshotNotFound } from './fromSource';
import { filterParams, one, parsePaging, type ListRules, type RawQuery } from '../listQuery';
import { chargeQuota } from '../quotas/quotas';
import { enqueue } from '../tasks/outbox';
import { resetTransition } from '../../domain/status';
import { groupSnapshotStatus, snapshotStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse } from '../status/move';

const invalidGroupSnapshot = (reason: string) => badRequest(`Invalid GroupSnapshot: ${reason}`);

const SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'group_snapshots.id',
  created_at: 'group_snapshots.created_at',
  name: "coalesce(group_snapshots.name, '')",
  status: 'group_snapshots.status',
};
/** `resource_filters.json` "group_snapshot". */
const USER_FILTERS = new Set(['name', 'status', 'group_id']);
const ADMIN_FILTERS = new Set([...USER_FILTERS, 'project_id']);

/**
 * Group snapshots (`api/v3/group_snapshots.py`, `group/api.py`): one
 * snapshot per member volume, written with their quota in one transaction,
 * each taken by its own `snapshot.create` task (so the data is really
 * copied); the group snapshot is `creating` until they are all done, then
 * available, or error if one failed (services/groups/outcomes.ts). A delete removes the
 * member snapshots through `snapshot.delete` tasks, and the row with the last.
 */
export class GroupSnapshotService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async get(ctx: RequestContext, id: string): Promise<DbGroupSnapshotRow> {
    const gs = await groupSnapshotsDb.find(this.db, id, groupScope(ctx));
    if (!gs) throw groupSnapshotNotFound(id);
    return gs;
  }

  /** Without `queryKeys` (before 3.29) Cinder ignores every query key but all_tenants (no paging, no filters). */
  async list(ctx: RequestContext, q: RawQuery, rules: ListRules & { readonly queryKeys: boolean }): Promise<DbGroupSnapshotRow[]> {
    const allTenants = one(q.all_tenants) !== undefined && one(q.all_tenants) !== '0' && one(q.all_tenants)?.toLowerCase() !== 'false';
    const scope = groupScope(ctx, allTenants);
    const query = rules.queryKeys ? q : {};
    const paging = parsePaging(query, SORT_COLUMNS, rules);
    const f = filterParams(query, ctx.isAdmin ? ADMIN_FILTERS : USER_FILTERS, rules);
    if (paging.marker !== undefined && !(await groupSnapshotsDb.find(this.db, paging.marker, scope)))
      throw groupSnapshotNotFound(paging.marker);
    return groupSnapshotsDb.list(this.db, {
      scope,
      filters: { name: f.get('name'), status: f.get('status'), group_id: f.get('group_id'), project_id: f.get('project_id') },
      sort: paging.sort,
      limit: paging.limit,
      offset: paging.offset,
      markerId: paging.marker,
    });
  }

  async create(
    ctx: RequestContext,
    input: { group_id: string; name?: string | null; description?: string | null },
  ): Promise<DbGroupSnapshotRow> {
    requireWriter(ctx, 'group:create_group_snapshot');
    const created = await this.db.transaction(async (trx) => {
      const g = await groupsDb.lock(trx, input.group_id, groupScope(ctx));
      if (!g) throw groupNotFound(input.group_id);
      const members: DbVolumeRow[] = [];
      for (const { id } of await groupsDb.volumesOf(trx, g.id)) {
        const v = (await volumesDb.lock(trx, id, { projectId: undefined }))!;
        // `_create_snapshot_in_db_validate`'s refusals; cairn copies data, so a member must hold it.
        if (v.status === VolumeStatus.maintenance)
          throw invalidVolume('The snapshot cannot be created when the volume is in maintenance mode.');
        if (v.status === VolumeStatus.error) throw invalidVolume('The snapshot cannot be created when the volume is in error status.');
        if (!GROUP_SNAPSHOT_SOURCE.includes(v.status as VolumeStatus)) {
          throw invalidVolume(`Volume ${v.id} status must be ${GROUP_SNAPSHOT_SOURCE.join(' or ')}, but current status is: ${v.status}.`);
        }
        members.push(v);
      }
      const now = new Date();
      const gs: DbGroupSnapshotRow = {
        id: randomUUID(),
        group_id: g.id,
        project_id: ctx.projectId,
        user_id: ctx.userId,
        name: input.name ?? null,
        description: input.description ?? null,
        group_type_id: g.group_type_id,
        created_at: now,
        updated_at: null,
        // An empty group has nothing to copy (Cinder's manager marks it available at once).
        status: members.length ? GroupSnapshotStatus.creating : GroupSnapshotStatus.available,
      };
      await groupSnapshotsDb.insert(trx, gs);
      // Charged per volume type (each charge sees the rows the one before wrote), as Cinder reserves them all.
      for (const typeId of [...new Set(members.map((m) => m.volume_type_id))]) {
        const ofType = members.filter((m) => m.volume_type_id === typeId);
        const type = await typesDb.findById(trx, typeId);
        await chargeQuota(trx, ctx.projectId, {
          resource: 'snapshots',
          snapshots: ofType.length,
          gigabytes: ofType.reduce((n, v) => n + v.size, 0),
          volumeType: type ? { id: type.id, name: type.name } : undefined,
        });
        for (const v of ofType) {
          const snap: DbSnapshotRow = {
            id: randomUUID(),
            volume_id: v.id,
            project_id: ctx.projectId,
            user_id: ctx.userId,
            display_name: gs.name,
            display_description: gs.description,
            size: v.size,
            status: SnapshotStatus.creating,
            progress: SNAPSHOT_PROGRESS.start,
            volume_type_id: v.volume_type_id,
            metadata: {},
            provider_location: null,
            group_snapshot_id: gs.id,
            created_at: now,
            updated_at: null,
          };
          await snapshotsDb.insert(trx, snap);
          await enqueue(
            trx,
            this.deps.config,
            ctx,
            TaskKind.snapshotCreate,
            { type: 'snapshot', id: snap.id, backend: v.backend },
            {
              ...(await volumeDriverPayload(trx, this.deps.config, v.backend, v.id)),
              volume_id: v.id,
              provider_location: v.provider_location,
              multiattach: v.multiattach,
              group_snapshot_id: gs.id,
              source_size: v.size,
            },
          );
        }
      }
      return gs;
    });
    this.deps.notifier.tasksWritten();
    return created;
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    requireWriter(ctx, 'group:delete_group_snapshot');
    await this.db.transaction(async (trx) => {
      const gs = await groupSnapshotsDb.lock(trx, id, groupScope(ctx));
      if (!gs) throw groupSnapshotNotFound(id);
      const members = await groupSnapshotsDb.members(trx, id, true);
      const t = GroupSnapshotTransitions.delete;
      const busy =
        (await groupsDb.creatingFrom(trx, { groupSnapshotId: id }, GroupStatus.creating)).length > 0 ||
        (await snapshotsDb.volumesBeingMadeFrom(trx, { snapshotIds: members.map((s) => s.id) }, [VolumeStatus.creating])).length > 0;
      const refuse = () =>
        invalidGroupSnapshot(
          'GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.',
        );
      if (busy) throw refuse();
      await moveOrRefuse(trx, groupSnapshotStatus, id, t, refuse);
      if (!members.length) {
        await groupSnapshotsDb.remove(trx, id);
        return;
      }
      for (const s of members) {
        // Cinder sets every member to deleting, whatever its status.
        await moveIfStill(trx, snapshotStatus, s.id, SnapshotTransitions.forceDelete);
        const vol = (await volumesDb.find(trx, s.volume_id, { projectId: undefined }))!;
        await enqueue(
          trx,
          this.deps.config,
          ctx,
          TaskKind.snapshotDelete,
          { type: 'snapshot', id: s.id, backend: vol.backend },
          {
            ...(await volumeDriverPayload(trx, this.deps.config, vol.backend, vol.id)),
            volume_id: s.volume_id,
            provider_location: s.provider_location,
            group_snapshot_id: id,
          },
        );
      }
    });
    this.deps.notifier.tasksWritten();
  }

  /** `reset_status` (admin, 3.19): any group snapshot status, unconditionally. */
  async resetStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    requireAdmin(ctx, 'group:reset_group_snapshot_status');
    if (!status.trim()) throw badRequest("Invalid GroupSnapshot Status: The 'status' can not be empty.");
    const target = groupResetTarget(status.toLowerCase());
    if (!target) {
      throw badRequest(
        `Invalid GroupSnapshot Status: Group snapshot status: ${status} is invalid, valid statuses are: ${pyTuple(ALL_GROUP_SNAPSHOT_STATUSES)}.`,
      );
    }
    await this.db.transaction(async (trx) => {
      if (!(await groupSnapshotsDb.lock(trx, id, groupScope(ctx)))) throw groupSnapshotNotFound(id);
      await moveIfStill(trx, groupSnapshotStatus, id, resetTransition(ALL_GROUP_SNAPSHOT_STATUSES, target));
    });
  }
}
