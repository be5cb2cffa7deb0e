import { atLeast } from '../../domain/microversion';
import { badRequest, notFound } from '../../domain/errors';
import { isoCinder } from '../../domain/time';
import type { DbGroupRow, DbGroupView } from '../../db/groups';
import type { DbGroupSnapshotRow } from '../../db/groupSnapshots';
import type { RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../../services/deps';
import { createGroupFromSource } from '../../services/groups/fromSource';
import type { GroupTypeWithSpecs } from '../../services/groups/types';
import type { Services } from '../../services';
import { one, parseBool, type RawQuery } from '../../services/listQuery';
import { accepted, ok, type RouteRequest, type RouteTable } from '../shared/http';
import { listRules } from './listRules';
import type { CinderRoutes } from './cinderRoutes';

/** Cinder's `views/group_types.py`: the specs only for admins (`group:access_group_types_specs`). */
function groupTypeView(t: GroupTypeWithSpecs, ctx: RequestContext): Record<string, unknown> {
  const body: Record<string, unknown> = { id: t.id, name: t.name, description: t.description, is_public: t.is_public };
  if (ctx.isAdmin) body.group_specs = t.groupSpecs;
  return body;
}

const groupSummary = (g: Pick<DbGroupRow, 'id' | 'name'>) => ({ id: g.id, name: g.name });

/** Whether the view shows `volumes` (3.25 with `list_volume`). */
function listsVolumes(ctx: RequestContext, q: RawQuery): boolean {
  const v = one(q.list_volume);
  return atLeast(ctx.version, 3, 25) && v !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.toLowerCase());
}

/** Cinder's `views/groups.py` detail: more keys per microversion. */
function groupDetail(g: DbGroupView, ctx: RequestContext, volumeIds?: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: g.id,
    status: g.status,
    availability_zone: g.availability_zone,
    created_at: isoCinder(g.created_at),
    name: g.name,
    description: g.description,
    group_type: g.group_type_id,
    volume_types: g.volume_type_ids,
  };
  const v = ctx.version;
  if (atLeast(v, 3, 14)) Object.assign(body, { group_snapshot_id: g.group_snapshot_id, source_group_id: g.source_group_id });
  if (volumeIds) body.volumes = volumeIds;
  if (atLeast(v, 3, 38)) body.replication_status = 'disabled';
  if (atLeast(v, 3, 58) && ctx.isAdmin) body.project_id = g.project_id;
  return body;
}

/** Cinder's `views/group_snapshots.py`. */
function groupSnapshotDetail(s: DbGroupSnapshotRow, ctx: RequestContext): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: s.id,
    group_id: s.group_id,
    group_type_id: s.group_type_id,
    status: s.status,
    created_at: isoCinder(s.created_at),
    name: s.name,
    description: s.description,
  };
  if (atLeast(ctx.version, 3, 58) && ctx.isAdmin) body.project_id = s.project_id;
  return body;
}

const noSuchAction = (name: string) =>
  badRequest(`There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
/** Before 3.29 Cinder reads no query key of a group snapshot list (but all_tenants). */
const snapshotListRules = (r: RouteRequest) => ({ ...listRules(r.ctx.version), queryKeys: atLeast(r.ctx.version, 3, 29) });
/** An action the negotiated microversion lacks: Cinder's version-not-found 404. */
const needs = (r: RouteRequest, minor: number) => {
  if (!atLeast(r.ctx.version, 3, minor)) throw notFound('The resource could not be found.');
};

/** Group types (3.11), groups (3.13), group snapshots (3.14) and their actions. */
export function groupRoutes(deps: ServiceDeps, s: Pick<Services, 'groupTypes' | 'groups' | 'groupSnapshots' | 'volumes'>): RouteTable {
  const { groupTypes: types, groups, groupSnapshots: snaps } = s;
  const withVolumes = async (r: RouteRequest, g: DbGroupView) =>
    groupDetail(g, r.ctx, listsVolumes(r.ctx, r.query) ? await groups.volumeIds(g.id) : undefined);
  return {
    listGroupTypes: async (r) => ok({ group_types: (await types.list(r.ctx, r.query)).map((t) => groupTypeView(t, r.ctx)) }),
    createGroupType: async (r) => accepted({ group_type: groupTypeView(await types.create(r.ctx, r.body.group_type), r.ctx) }),
    showGroupType: async (r) => ok({ group_type: groupTypeView(await types.get(r.ctx, r.params.group_type_id!), r.ctx) }),
    updateGroupType: async (r) =>
      ok({ group_type: groupTypeView(await types.update(r.ctx, r.params.group_type_id!, r.body.group_type), r.ctx) }),
    deleteGroupType: async (r) => {
      await types.delete(r.ctx, r.params.group_type_id!);
      return accepted();
    },
    listGroupSpecs: async (r) => ok({ group_specs: await types.listSpecs(r.ctx, r.params.group_type_id!) }),
    createGroupSpecs: async (r) => accepted({ group_specs: await types.setSpecs(r.ctx, r.params.group_type_id!, r.body.group_specs) }),
    showGroupSpec: async (r) => ok(await types.showSpec(r.ctx, r.params.group_type_id!, r.params.spec_id!)),
    // Not null: the schema's `type: object` narrows its nullable allOf, which the generated type keeps.
    updateGroupSpec: async (r) => ok(await types.updateSpec(r.ctx, r.params.group_type_id!, r.params.spec_id!, r.body!)),
    deleteGroupSpec: async (r) => {
      await types.deleteSpec(r.ctx, r.params.group_type_id!, r.params.spec_id!);
      return accepted();
    },

    listGroups: async (r) => ok({ groups: (await groups.list(r.ctx, r.query, listRules(r.ctx.version))).map(groupSummary) }),
    listGroupsDetail: async (r) =>
      ok({ groups: await Promise.all((await groups.list(r.ctx, r.query, listRules(r.ctx.version))).map((g) => withVolumes(r, g))) }),
    createGroup: async (r) => accepted({ group: groupSummary(await groups.create(r.ctx, r.body.group)) }),
    showGroup: async (r) => ok({ group: await withVolumes(r, await groups.get(r.ctx, r.params.group_id!)) }),
    updateGroup: async (r) => {
      await groups.update(r.ctx, r.params.group_id!, r.body.group);
      return accepted();
    },
    createGroupFromSource: async (r) => {
      if (!r.body['create-from-src']) throw noSuchAction(Object.keys(r.body)[0] ?? '');
      return accepted({ group: groupSummary(await createGroupFromSource(deps, s.volumes, r.ctx, r.body['create-from-src'])) });
    },
    groupAction: async (r) => {
      const id = r.params.group_id!;
      if (r.body.delete !== undefined) {
        const flag = r.body.delete?.['delete-volumes'];
        await groups.delete(
          r.ctx,
          id,
          flag === undefined ? false : typeof flag === 'boolean' ? flag : parseBool(String(flag), 'delete-volumes'),
        );
      } else if (r.body.reset_status !== undefined) {
        needs(r, 20);
        await groups.resetStatus(r.ctx, id, r.body.reset_status.status);
      } else throw noSuchAction(Object.keys(r.body)[0] ?? '');
      return accepted();
    },

    listGroupSnapshots: async (r) =>
      ok({ group_snapshots: (await snaps.list(r.ctx, r.query, snapshotListRules(r))).map((s) => ({ id: s.id, name: s.name })) }),
    listGroupSnapshotsDetail: async (r) =>
      ok({ group_snapshots: (await snaps.list(r.ctx, r.query, snapshotListRules(r))).map((s) => groupSnapshotDetail(s, r.ctx)) }),
    createGroupSnapshot: async (r) => {
      const s = await snaps.create(r.ctx, r.body.group_snapshot);
      return accepted({ group_snapshot: { id: s.id, name: s.name, group_type_id: s.group_type_id } });
    },
    showGroupSnapshot: async (r) => ok({ group_snapshot: groupSnapshotDetail(await snaps.get(r.ctx, r.params.group_snapshot_id!), r.ctx) }),
    deleteGroupSnapshot: async (r) => {
      await snaps.delete(r.ctx, r.params.group_snapshot_id!);
      return accepted();
    },
    groupSnapshotAction: async (r) => {
      if (r.body.reset_status === undefined) throw noSuchAction(Object.keys(r.body)[0] ?? '');
      needs(r, 19);
      await snaps.resetStatus(r.ctx, r.params.group_snapshot_id!, r.body.reset_status.status);
      return accepted();
    },
  } satisfies CinderRoutes;
}
