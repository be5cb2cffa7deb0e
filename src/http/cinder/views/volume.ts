import { atLeast, type ApiVersion } from '../../../domain/microversion';
import { isoCinder } from '../../../domain/time';
import type { DbVolumeView, ListedVolume } from '../../../db/volumes';
import type { Links } from './links';
import { backendServiceUuid } from '../../../domain/ids';
import { volumeAttachmentItem } from './attachment';

/**
 * Cinder's volume view (`cinder/api/v2/views/volumes.py` + v3 + the contrib
 * extensions). `extended` adds the keys that Cinder's extensions add to show
 * and detail but not to create/update responses.
 */
export interface VolumeViewOpts {
  readonly version: ApiVersion;
  readonly isAdmin: boolean;
  readonly links: Links;
  readonly extended: boolean;
}

export function volumeSummary(v: Pick<DbVolumeView, 'id' | 'display_name'>, links: Links) {
  return { id: v.id, name: v.display_name, links: links.resource('volumes', v.id) };
}

/** Cinder's `add_visible_admin_metadata`: `readonly` and `attached_mode` show among the volume's metadata. */
function withVisibleAdminMetadata(v: ListedVolume): Record<string, string> {
  const admin = v.admin_metadata ?? {};
  const visible = Object.fromEntries(['readonly', 'attached_mode'].filter((k) => admin[k] !== undefined).map((k) => [k, admin[k]!]));
  return Object.keys(visible).length ? { ...v.metadata, ...visible } : v.metadata;
}

export function volumeDetail(v: ListedVolume, o: VolumeViewOpts): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: v.availability_zone,
    created_at: isoCinder(v.created_at),
    updated_at: isoCinder(v.updated_at),
    name: v.display_name,
    description: v.display_description,
    volume_type: v.volume_type_name ?? v.volume_type_id,
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    metadata: withVisibleAdminMetadata(v),
    links: o.links.resource('volumes', v.id),
    user_id: v.user_id,
    bootable: String(v.bootable),
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: v.multiattach,
    attachments: (v.attachments ?? []).map((a) => volumeAttachmentItem(a, o.isAdmin)),
  };
  if (o.isAdmin) body.migration_status = null;
  const mv = o.version;
  if (atLeast(mv, 3, 13)) body.group_id = v.group_id ?? null;
  if (atLeast(mv, 3, 21) && o.isAdmin) body.provider_id = null;
  if (atLeast(mv, 3, 48)) {
    // Cinder reports these once a volume service has taken the volume.
    const placed = v.provider_location !== null;
    body.shared_targets = !placed;
    body.service_uuid = placed ? backendServiceUuid(v.backend) : null;
  }
  if (atLeast(mv, 3, 61) && o.isAdmin) body.cluster_name = null;
  if (atLeast(mv, 3, 63)) body.volume_type_id = v.volume_type_id;
  if (atLeast(mv, 3, 65)) body.consumes_quota = true;
  if (o.extended) {
    // Only volumes made from an image (or given image metadata) carry this key, and only in show and list
    // (Cinder's volume_image_metadata extension): create and update replies have none.
    if (v.image_metadata) body.volume_image_metadata = v.image_metadata;
    body['os-vol-tenant-attr:tenant_id'] = v.project_id;
    if (o.isAdmin) {
      body['os-vol-mig-status-attr:migstat'] = null;
      body['os-vol-mig-status-attr:name_id'] = null;
      body['os-vol-host-attr:host'] = v.host;
    }
  }
  return body;
}
