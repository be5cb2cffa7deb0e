import { badRequest } from '../../domain/errors';
import { AttachStatus } from '../../domain/status';
import type { DbSnapshotRow } from '../../db/snapshots';
import { isoCinder } from '../../domain/time';
import type { DbVolumeView, ListedVolume } from '../../db/volumes';
import type { RequestContext } from '../../domain/context';
import { BASE_LIST_RULES, one, parseBool, type RawQuery } from '../listQuery';
import type { SnapshotService } from '../snapshots/snapshots';
import type { VolumeService } from '../volumes/volumes';

/** Nova's cinderclient speaks the volume API's base version (3.0) to the proxies: its rules, its flags. */
const asVolumeApi = (ctx: RequestContext): RequestContext => ({ ...ctx, version: { major: 3, minor: 0 } });

/** `common.limited`: `offset` and `limit` (non-negative integers; limit capped at 1000). */
function limited(q: RawQuery): RawQuery {
  const out: RawQuery = {};
  for (const key of ['offset', 'limit'] as const) {
    const v = one(q[key]);
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw badRequest(`${key} param must be an integer`);
    out[key] = v;
  }
  return out;
}

/** `compute/volumes.py:_translate_volume_summary_view` over what Nova's cinder.py makes of Cinder's volume. */
export function proxyVolumeView(v: ListedVolume): Record<string, unknown> {
  const attached = (v.attachments ?? []).filter((a) => a.attach_status === AttachStatus.attached);
  const first = attached[0];
  return {
    id: v.id,
    status: v.status,
    size: v.size,
    availabilityZone: v.availability_zone,
    createdAt: isoCinder(v.created_at),
    attachments: first
      ? [{ id: v.id, volumeId: v.id, serverId: first.instance_uuid, ...(first.mountpoint ? { device: first.mountpoint } : {}) }]
      : [{}],
    displayName: v.display_name,
    displayDescription: v.display_description,
    volumeType: v.volume_type_name ?? v.volume_type_id,
    snapshotId: v.snapshot_id,
    metadata: v.metadata ?? {},
  };
}

/** `_translate_snapshot_summary_view`. */
export function proxySnapshotView(s: DbSnapshotRow): Record<string, unknown> {
  return {
    id: s.id,
    volumeId: s.volume_id,
    status: s.status,
    size: s.size,
    createdAt: isoCinder(s.created_at),
    displayName: s.display_name,
    displayDescription: s.display_description,
  };
}

/**
 * The deprecated `os-volumes` and `os-snapshots` proxies (compute API up to
 * 2.35): Nova passes each call to the volume API as the caller; here the
 * volume API's own services serve it, with Nova's shapes.
 */
export class NovaVolumeProxy {
  constructor(
    private readonly volumes: VolumeService,
    private readonly snapshots: SnapshotService,
  ) {}

  async listVolumes(ctx: RequestContext, q: RawQuery): Promise<ListedVolume[]> {
    return (await this.volumes.list(asVolumeApi(ctx), limited(q), true, { ...BASE_LIST_RULES, strictBootable: false })).items;
  }

  async getVolume(ctx: RequestContext, id: string): Promise<DbVolumeView> {
    return this.volumes.get(asVolumeApi(ctx), id);
  }

  async createVolume(
    ctx: RequestContext,
    body: {
      size: number | string;
      display_name?: string;
      display_description?: string;
      volume_type?: string;
      metadata?: Record<string, unknown>;
      snapshot_id?: string;
      availability_zone?: string;
    },
  ): Promise<DbVolumeView> {
    const c = asVolumeApi(ctx);
    const created = await this.volumes.create(c, {
      size: body.size,
      name: body.display_name,
      description: body.display_description,
      volume_type: body.volume_type,
      // Unchecked: the proxy's schema (compute.yaml) takes any object, where Nova's Cinder would refuse non-string values.
      metadata: body.metadata as Record<string, string> | undefined,
      snapshot_id: body.snapshot_id,
      availability_zone: body.availability_zone,
    });
    // Nova reads the volume back after the create.
    return this.volumes.get(c, created.id);
  }

  async deleteVolume(ctx: RequestContext, id: string): Promise<void> {
    await this.volumes.delete(asVolumeApi(ctx), id);
  }

  async listSnapshots(ctx: RequestContext, q: RawQuery): Promise<DbSnapshotRow[]> {
    return (await this.snapshots.list(asVolumeApi(ctx), limited(q), BASE_LIST_RULES)).items;
  }

  async getSnapshot(ctx: RequestContext, id: string): Promise<DbSnapshotRow> {
    return this.snapshots.get(asVolumeApi(ctx), id);
  }

  async createSnapshot(
    ctx: RequestContext,
    body: { volume_id: string; force?: boolean | string; display_name?: string; display_description?: string },
  ): Promise<DbSnapshotRow> {
    const force = body.force === undefined ? false : typeof body.force === 'boolean' ? body.force : parseBool(body.force, 'force');
    return this.snapshots.create(
      asVolumeApi(ctx),
      {
        volume_id: body.volume_id,
        display_name: body.display_name,
        display_description: body.display_description,
        force,
      },
      { allowInUse: false },
    );
  }

  async deleteSnapshot(ctx: RequestContext, id: string): Promise<void> {
    await this.snapshots.delete(asVolumeApi(ctx), id);
  }
}
