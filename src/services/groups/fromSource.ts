import { randomUUID } from 'node:crypto';
import { notFound } from '../../domain/errors';
import { GroupStatus } from '../../domain/status/group';
import * as groupsDb from '../../db/groups';
import type { DbGroupRow, DbGroupView } from '../../db/groups';
import * as groupSnapshotsDb from '../../db/groupSnapshots';
import { requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { groupNotFound, groupScope, invalidGroup } from './groups';
import { chargeQuota } from '../quotas/quotas';
import type { VolumeService } from '../volumes/volumes';

export interface CreateFromSourceInput {
  name?: string | null;
  description?: string | null;
  group_snapshot_id?: string;
  source_group_id?: string;
}

export const groupSnapshotNotFound = (id: string) => notFound(`GroupSnapshot ${id} could not be found.`);

/**
 * `create-from-src` (3.14): a new group of the source's type, with one new
 * volume per member of a group snapshot (from its snapshot) or of a source
 * group (a clone). The group, its quota and every volume (through the volume
 * service, each with its own `volume.create` task that copies the data) are
 * one transaction: all of them, or none. The group stays `creating` until
 * the copies are done (services/groups/outcomes.ts).
 */
export async function createGroupFromSource(
  deps: ServiceDeps,
  volumes: VolumeService,
  ctx: RequestContext,
  input: CreateFromSourceInput,
): Promise<DbGroupRow> {
  requireWriter(ctx, 'group:create');
  const trimmed = (s: string | null | undefined) => (s ? s.trim() : (s ?? null));
  const created = await deps.db.transaction(async (trx) => {
    let source: DbGroupView | undefined;
    let members: Array<{ snapshot_id?: string; source_volid?: string; typeId: string }>;
    let groupTypeId: string;
    if (input.group_snapshot_id) {
      const gs = await groupSnapshotsDb.lock(trx, input.group_snapshot_id, groupScope(ctx));
      if (!gs) throw groupSnapshotNotFound(input.group_snapshot_id);
      source = await groupsDb.find(trx, gs.group_id, { projectId: undefined });
      members = (await groupSnapshotsDb.members(trx, gs.id)).map((s) => ({ snapshot_id: s.id, typeId: s.volume_type_id }));
      if (!members.length) throw invalidGroup('Group snapshot is empty. No group will be created.');
      groupTypeId = gs.group_type_id;
    } else {
      source = await groupsDb.lock(trx, input.source_group_id!, groupScope(ctx));
      if (!source) throw groupNotFound(input.source_group_id!);
      members = (await groupsDb.volumesOf(trx, source.id)).map((v) => ({ source_volid: v.id, typeId: v.volume_type_id }));
      if (!members.length) throw invalidGroup('Source Group is empty. No group will be created.');
      groupTypeId = source.group_type_id;
    }
    await chargeQuota(trx, ctx.projectId, { resource: 'groups', groups: 1 });
    const row: DbGroupRow = {
      id: randomUUID(),
      project_id: ctx.projectId,
      user_id: ctx.userId,
      name: trimmed(input.name),
      description: trimmed(input.description),
      status: GroupStatus.creating,
      availability_zone: source?.availability_zone ?? deps.config.availabilityZone,
      group_type_id: groupTypeId,
      backend: source?.backend ?? null,
      group_snapshot_id: input.group_snapshot_id ?? null,
      source_group_id: input.group_snapshot_id ? null : (input.source_group_id ?? null),
      created_at: new Date(),
      updated_at: null,
    };
    // The source group's types, and each member's (Cinder adds a mapping per source volume's type).
    await groupsDb.insert(trx, row, [...new Set([...(source?.volume_type_ids ?? []), ...members.map((m) => m.typeId)])]);
    // The volume service in this transaction (its own becomes a savepoint): the same checks, quota and tasks as any create.
    for (const m of members) {
      const { typeId: _t, ...from } = m;
      await volumes.create(ctx, { ...from, group_id: row.id, availability_zone: row.availability_zone }, {}, trx);
    }
    return row;
  });
  deps.notifier.tasksWritten();
  return created;
}
