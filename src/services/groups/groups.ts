import { randomUUID } from 'node:crypto';
import { badRequest, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import { isUuidLike } from '../../domain/ids';
import { AttachStatus, type VolumeStatus, TaskKind } from '../../domain/status';
import {
  GROUP_ADDABLE_VOLUME,
  GROUP_REMOVABLE_VOLUME,
  GroupMemberDelete,
  GroupStatus,
  GroupTransitions,
  ALL_GROUP_STATUSES,
  groupResetTarget,
} from '../../domain/status/group';
import type { Tx } from '../../db/connection';
import * as groupsDb from '../../db/groups';
import type { DbGroupRow, DbGroupView, GroupScope } from '../../db/groups';
import * as groupSnapshotsDb from '../../db/groupSnapshots';
import * as snapshotsDb from '../../db/snapshots';
import * as typesDb from '../../db/volumeTypes';
import * as volumesDb from '../../db/volumes';
import { requireAdmin, requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { resolveGroupType } from './types';
import { filterParams, one, parsePaging, type ListRules, type RawQuery } from '../listQuery';
import { placeVolume } from '../backends/placement';
import { chargeQuota } from '../quotas/quotas';
import { enqueue } from '../tasks/outbox';
import { resetTransition } from '../../domain/status';
import { groupStatus, volumeStatus } from '../status/columns';
import { moveIfStill, moveOrRefuse, refuseUnlessFrom } from '../status/move';

export const groupNotFound = (id: string) => notFound(`Group ${id} could not be found.`);
export const invalidGroup = (reason: string) => badRequest(`Invalid Group: ${reason}`);

/** An admin sees every project's groups by id; lists need `all_tenants`. */
export const groupScope = (ctx: RequestContext, allTenants = true): GroupScope => ({
  projectId: ctx.isAdmin && allTenants ? undefined : ctx.projectId,
});

/** Python's repr of a tuple of strings, as Cinder's messages print its status tuples. */
export const pyTuple = (items: readonly string[]) => `(${items.map((s) => `'${s}'`).join(', ')})`;

const SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'groups.id',
  created_at: 'groups.created_at',
  name: "coalesce(groups.name, '')",
  status: 'groups.status',
};
/** `resource_filters.json` "group" (plus what cairn's columns answer for an admin). */
const USER_FILTERS = new Set(['name', 'list_volume']);
const ADMIN_FILTERS = new Set([...USER_FILTERS, 'status', 'project_id']);

export interface CreateGroupInput {
  name?: string | null;
  description?: string | null;
  group_type: string;
  volume_types: string[];
  availability_zone?: string | null;
}

export interface UpdateGroupInput {
  name?: string | null;
  description?: string | null;
  add_volumes?: string | null;
  remove_volumes?: string | null;
}

const trimmed = (s: string | null | undefined) => (s ? s.trim() : (s ?? null));
const idList = (s: string | null | undefined) =>
  s
    ? s
        .replace(/^,+|,+$/g, '')
        .split(',')
        .filter(Boolean)
    : [];

/**
 * The group a new volume joins (`group_id` on volume create, 3.13): the
 * caller's, locked until the volume's row is written, not being deleted, of a
 * type the group supports and on its backend (Cinder's scheduler puts group
 * volumes on the group's host). Volumes made for a group from a source take
 * their source's type, which the group was given.
 */
export async function groupForNewVolume(
  trx: Tx,
  ctx: RequestContext,
  groupId: string,
  v: {
    typeId: string;
    typeName: string;
    typeAsked: boolean;
    fromSource: boolean;
    backend: string;
  },
): Promise<DbGroupView> {
  const g = await groupsDb.lock(trx, groupId, groupScope(ctx));
  if (!g) throw groupNotFound(groupId);
  if (!v.fromSource && !v.typeAsked) throw invalidInput('volume_type must be provided when creating a volume in a group.');
  if (!g.volume_type_ids.includes(v.typeId)) {
    throw invalidInput(`Invalid volume_type provided: ${v.typeName} (requested type must be supported by this group).`);
  }
  if (g.status === GroupStatus.deleting) throw invalidGroup(`Group ${g.id} is being deleted.`);
  if (g.backend !== null && g.backend !== v.backend) throw invalidVolume('Volume is not local to this node.');
  return g;
}

/**
 * Generic volume groups (`api/v3/groups.py`, `group/api.py`). A group is a
 * grouping of volumes in the database, so creating, renaming and changing
 * members are done at once; a group made from a group snapshot or another
 * group gets one new volume per source through the volume service (copies
 * by the workers) and is `creating` until they are made (services/groups/outcomes.ts).
 */
export class GroupService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async get(ctx: RequestContext, id: string): Promise<DbGroupView> {
    const g = await groupsDb.find(this.db, id, groupScope(ctx));
    if (!g) throw groupNotFound(id);
    return g;
  }

  /** The group's volume ids (`list_volume`, 3.25). */
  async volumeIds(id: string): Promise<string[]> {
    return (await groupsDb.volumesOf(this.db, id)).map((v) => v.id);
  }

  async list(ctx: RequestContext, q: RawQuery, rules: ListRules): Promise<DbGroupView[]> {
    const allTenants = one(q.all_tenants) !== undefined && one(q.all_tenants) !== '0' && one(q.all_tenants)?.toLowerCase() !== 'false';
    const scope = groupScope(ctx, allTenants);
    const paging = parsePaging(q, SORT_COLUMNS, rules);
    const f = filterParams(q, ctx.isAdmin ? ADMIN_FILTERS : USER_FILTERS, rules);
    if (paging.marker !== undefined && !(await groupsDb.find(this.db, paging.marker, scope))) throw groupNotFound(paging.marker);
    return groupsDb.list(this.db, {
      scope,
      filters: { name: f.get('name'), status: f.get('status'), project_id: f.get('project_id') },
      sort: paging.sort,
      limit: paging.limit,
      offset: paging.offset,
      markerId: paging.marker,
    });
  }

  async create(ctx: RequestContext, input: CreateGroupInput): Promise<DbGroupRow> {
    requireWriter(ctx, 'group:create');
    const az = input.availability_zone ?? this.deps.config.availabilityZone;
    if (az !== this.deps.config.availabilityZone) throw invalidInput(`Availability zone '${az}' is invalid.`);
    const now = new Date();
    return this.db.transaction(async (trx) => {
      const groupType = await resolveGroupType(trx, ctx, input.group_type.trim());
      const types = [];
      for (const t of input.volume_types) {
        // Any type, private ones too (Cinder looks them up with an elevated context).
        const row = isUuidLike(t) ? await typesDb.findById(trx, t) : await typesDb.findByName(trx, t);
        if (!row) throw notFound(isUuidLike(t) ? `Volume type ${t} could not be found.` : `Volume type with name ${t} could not be found.`);
        types.push(row);
      }
      // Cinder's group scheduler needs one backend that serves every type; none → the group is in error.
      const specs = await typesDb.extraSpecsOf(
        trx,
        types.map((t) => t.id),
      );
      const places = types.map((t) => placeVolume(this.deps.config, specs.get(t.id) ?? {}));
      const backend = places.every((p) => p.ok && p.backend === places[0]!.backend) ? places[0]!.backend : null;
      await chargeQuota(trx, ctx.projectId, { resource: 'groups', groups: 1 });
      const row: DbGroupRow = {
        id: randomUUID(),
        project_id: ctx.projectId,
        user_id: ctx.userId,
        name: trimmed(input.name),
        description: trimmed(input.description),
        status: backend ? GroupStatus.available : GroupStatus.error,
        availability_zone: az,
        group_type_id: groupType.id,
        backend,
        group_snapshot_id: null,
        source_group_id: null,
        created_at: now,
        updated_at: null,
      };
      await groupsDb.insert(trx, row, [...new Set(types.map((t) => t.id))]);
      return row;
    });
  }

  /**
   * `PUT /groups/{id}`: name, description, and members in and out
   * (comma-separated ids). Membership changes need an available group.
   */
  async update(ctx: RequestContext, id: string, input: UpdateGroupInput): Promise<void> {
    requireWriter(ctx, 'group:update');
    const add = idList(input.add_volumes);
    const remove = idList(input.remove_volumes);
    const both = add.filter((u) => remove.includes(u));
    if (both.length) throw invalidVolume(`UUIDs [${both.map((u) => `'${u}'`).join(', ')}] are in both add and remove volume list.`);
    await this.db.transaction(async (trx) => {
      const g = await groupsDb.lock(trx, id, groupScope(ctx));
      if (!g) throw groupNotFound(id);
      const name = trimmed(input.name);
      const description = trimmed(input.description);
      const newName = name !== undefined && name !== null && name !== g.name ? name : undefined;
      const newDescription = description !== undefined && description !== null && description !== g.description ? description : undefined;
      const members = await groupsDb.volumesOf(trx, id);
      const removing = this.validateRemove(g, members, remove);
      const adding = await this.validateAdd(trx, ctx, g, members, add);
      if (newName === undefined && newDescription === undefined && !adding.length && !removing.length) {
        throw invalidGroup(`Cannot update group ${id} because no valid name, description, add_volumes, or remove_volumes were provided.`);
      }
      if ((adding.length || removing.length) && !(GroupTransitions.changeMembers.from as readonly string[]).includes(g.status)) {
        throw invalidGroup('Group status must be available.');
      }
      await groupsDb.update(trx, id, {
        ...(newName !== undefined ? { name: newName } : {}),
        ...(newDescription !== undefined ? { description: newDescription } : {}),
      });
      await groupsDb.setVolumesGroup(trx, removing, null);
      await groupsDb.setVolumesGroup(trx, adding, id);
    });
  }

  private validateRemove(g: DbGroupView, members: Awaited<ReturnType<typeof groupsDb.volumesOf>>, remove: string[]): string[] {
    const out: string[] = [];
    for (const v of members.filter((m) => remove.includes(m.id))) {
      if (!GROUP_REMOVABLE_VOLUME.includes(v.status as VolumeStatus)) {
        throw invalidVolume(
          `Cannot remove volume ${v.id} from group ${g.id} because volume is in an invalid state: ${v.status}. ` +
            `Valid states are: ${pyTuple(GROUP_REMOVABLE_VOLUME)}.`,
        );
      }
      out.push(v.id);
    }
    const missing = remove.find((u) => !out.includes(u));
    if (missing) throw invalidVolume(`Cannot remove volume ${missing} from group ${g.id} because it is not in the group.`);
    return out;
  }

  private async validateAdd(
    trx: Tx,
    ctx: RequestContext,
    g: DbGroupView,
    members: Array<{ id: string }>,
    add: string[],
  ): Promise<string[]> {
    const out: string[] = [];
    for (const id of add.filter((u) => !members.some((m) => m.id === u))) {
      const v = await volumesDb.lock(trx, id, { projectId: ctx.isAdmin ? undefined : ctx.projectId });
      const cannot = (why: string) => invalidVolume(`Cannot add volume ${id} to group ${g.id} ${why}`);
      if (!v) throw cannot('because volume cannot be found.');
      if (v.group_id) throw cannot(`because it is already in group ${v.group_id}.`);
      if (v.project_id !== g.project_id)
        throw invalidVolume(`Cannot add volume ${id} to group ${g.id} as they belong to different projects.`);
      if (!g.volume_type_ids.includes(v.volume_type_id))
        throw cannot(`because volume type ${v.volume_type_id} is not supported by the group.`);
      if (!GROUP_ADDABLE_VOLUME.includes(v.status as VolumeStatus)) {
        throw cannot(`because volume is in an invalid state: ${v.status}. Valid states are: ${pyTuple(GROUP_ADDABLE_VOLUME)}.`);
      }
      if (v.backend !== g.backend) throw invalidVolume('Volume is not local to this node.');
      out.push(id);
    }
    return out;
  }

  /**
   * `delete` action: with `delete-volumes`, every member volume goes to
   * deleting and is removed by its own `volume.delete` task; the group row
   * goes with the last of them (services/groups/outcomes.ts), at once when it has none.
   */
  async delete(ctx: RequestContext, id: string, deleteVolumes: boolean): Promise<void> {
    requireWriter(ctx, 'group:delete');
    await this.db.transaction(async (trx) => {
      const g = await groupsDb.lock(trx, id, groupScope(ctx));
      if (!g) throw groupNotFound(id);
      const t = deleteVolumes ? GroupTransitions.deleteWithVolumes : GroupTransitions.delete;
      if (!deleteVolumes)
        refuseUnlessFrom(t, g.status, () => invalidGroup(`Group status must be available or error, but current status is: ${g.status}`));
      if ((await groupSnapshotsDb.countOfGroup(trx, id)) > 0) throw invalidGroup('Group has existing snapshots.');
      const members = await groupsDb.volumesOf(trx, id);
      if (members.length && !deleteVolumes) {
        throw invalidGroup(`Group ${id} still contains volumes. The delete-volumes flag is required to delete it.`);
      }
      for (const v of members) {
        if (v.attach_status === AttachStatus.attached) throw invalidGroup(`Volume in group ${id} is attached. Need to detach first.`);
        if ((await snapshotsDb.ofVolume(trx, v.id)).length) throw invalidGroup('Volume in group still has dependent snapshots.');
      }
      const refuse = () =>
        invalidGroup(
          `Cannot delete group ${id}. ${
            deleteVolumes
              ? 'Group status must be available or error and must not have dependent group snapshots'
              : 'Group must not have attached volumes, volumes with snapshots, or dependent group snapshots'
          }, and it cannot be the source for an ongoing group or group snapshot creation.`,
        );
      if ((await groupsDb.creatingFrom(trx, { groupId: id }, GroupStatus.creating)).length) throw refuse();
      await moveOrRefuse(trx, groupStatus, id, t, refuse);
      if (!members.length) {
        await groupsDb.remove(trx, id);
        return;
      }
      for (const v of members) {
        const row = await moveOrRefuse(trx, volumeStatus, v.id, GroupMemberDelete, () =>
          invalidGroup(`Volume ${v.id} in group ${id} cannot be deleted in status ${v.status}.`),
        );
        await enqueue(
          trx,
          this.deps.config,
          ctx,
          TaskKind.volumeDelete,
          { type: 'volume', id: v.id, backend: v.backend },
          { provider_location: row.provider_location, group_id: id },
        );
      }
    });
    this.deps.notifier.tasksWritten();
  }

  /** `reset_status` (admin, 3.20): any status Cinder's checker accepts, unconditionally. */
  async resetStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    requireAdmin(ctx, 'group:reset_status');
    const s = status.toLowerCase();
    if (!status.trim()) throw badRequest("Invalid Group Status: The 'status' can not be empty.");
    const target = groupResetTarget(s);
    if (!target)
      throw badRequest(`Invalid Group Status: Group status: ${status} is invalid, valid status are: ${pyTuple(ALL_GROUP_STATUSES)}.`);
    await this.db.transaction(async (trx) => {
      if (!(await groupsDb.lock(trx, id, groupScope(ctx)))) throw groupNotFound(id);
      await moveIfStill(trx, groupStatus, id, resetTransition(ALL_GROUP_STATUSES, target));
    });
  }
}
