/**
 * Nova's view builders for what cairn serves: servers
 * (`nova/api/openstack/compute/views/servers.py`), flavors (`views/flavors.py`)
 * and volume attachments (`compute/volumes.py:_translate_attachment_detail_view`),
 * shaped per microversion.
 */
import { createHash } from 'node:crypto';
import { FLAVORS, type Flavor } from '../../domain/compute';
import { atLeast } from '../../domain/microversion';
import { serverStatus } from '../../domain/status';
import type { DbBdmRow, DbServerRow } from '../../db/servers';
import type { DbInstanceActionRow } from '../../db/instanceActions';
import type { DbKeypairRow } from '../../db/keypairs';
import { isoCinder } from '../../domain/time';
import type { RequestContext } from '../../domain/context';
import type { ComputeLinks } from './http';

/** `nova/utils.py:isotime`: seconds, `Z`. */
const isotime = (d: Date | null) => (d ? `${d.toISOString().slice(0, 19)}Z` : null);

/** `utils.generate_hostid`: sha224 of project and host, so projects cannot compare hosts. */
const hostId = (s: DbServerRow) =>
  createHash('sha224')
    .update(s.project_id + s.host)
    .digest('hex');

const hostname = (s: DbServerRow) =>
  s.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '') || `server-${s.id}`;

export function serverSummary(s: DbServerRow, links: ComputeLinks) {
  return { id: s.id, name: s.name, links: links.resource('servers', s.id) };
}

function flavorView(s: DbServerRow, ctx: RequestContext, links: ComputeLinks) {
  const f = FLAVORS.find((x) => x.id === s.flavor_id);
  if (!f) return {};
  if (!atLeast(ctx.version, 2, 47)) return { id: f.id, links: links.bookmark('flavors', f.id) };
  return {
    vcpus: f.vcpus,
    ram: f.ram,
    disk: f.disk,
    ephemeral: 0,
    swap: 0,
    original_name: f.name,
    ...(ctx.isAdmin ? { extra_specs: {} } : {}),
  };
}

/** The detailed server (show, list detail, update). `serverGroups`: show's 2.71 field. */
export function serverDetail(s: DbServerRow, bdms: readonly DbBdmRow[], ctx: RequestContext, links: ComputeLinks, serverGroups = false) {
  const v = ctx.version;
  const status = serverStatus(s.vm_state);
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status,
    tenant_id: s.project_id,
    user_id: s.user_id,
    metadata: s.metadata,
    hostId: hostId(s),
    image: s.image_ref ? { id: s.image_ref, links: links.bookmark('images', s.image_ref) } : '',
    flavor: flavorView(s, ctx, links),
    created: isotime(s.created_at),
    updated: isotime(s.updated_at ?? s.created_at),
    addresses: {},
    accessIPv4: s.access_ip_v4 ?? '',
    accessIPv6: s.access_ip_v6 ?? '',
    links: links.resource('servers', s.id),
    'OS-DCF:diskConfig': 'MANUAL',
  };
  if ((status === 'ERROR' || status === 'DELETED') && s.fault) out.fault = s.fault;
  if (status === 'ACTIVE' || status === 'BUILD') out.progress = 0;
  Object.assign(out, {
    'OS-EXT-AZ:availability_zone': s.availability_zone,
    config_drive: '',
    key_name: null,
    'OS-SRV-USG:launched_at': isoCinder(s.launched_at),
    'OS-SRV-USG:terminated_at': isoCinder(s.deleted_at),
    security_groups: [{ name: 'default' }],
  });
  if (ctx.isAdmin) {
    Object.assign(out, {
      'OS-EXT-SRV-ATTR:host': s.host,
      'OS-EXT-SRV-ATTR:instance_name': `instance-${s.id.slice(0, 8)}`,
      'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
    });
    if (atLeast(v, 2, 3)) {
      Object.assign(out, {
        'OS-EXT-SRV-ATTR:reservation_id': `r-${s.id.slice(0, 8)}`,
        'OS-EXT-SRV-ATTR:launch_index': 0,
        'OS-EXT-SRV-ATTR:hostname': hostname(s),
        'OS-EXT-SRV-ATTR:kernel_id': '',
        'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:root_device_name': s.root_device_name,
        'OS-EXT-SRV-ATTR:user_data': null,
      });
    }
  }
  Object.assign(out, {
    'OS-EXT-STS:task_state': s.task_state,
    'OS-EXT-STS:vm_state': s.vm_state,
    'OS-EXT-STS:power_state': s.power_state,
    'os-extended-volumes:volumes_attached': bdms
      .filter((b) => b.volume_id)
      .map((b) => (atLeast(v, 2, 3) ? { id: b.volume_id, delete_on_termination: b.delete_on_termination } : { id: b.volume_id })),
  });
  if (atLeast(v, 2, 16) && ctx.isAdmin) out.host_status = 'UP';
  if (atLeast(v, 2, 9)) out.locked = false;
  if (atLeast(v, 2, 73)) out.locked_reason = null;
  if (atLeast(v, 2, 19)) out.description = s.description;
  if (atLeast(v, 2, 26)) out.tags = s.tags;
  if (atLeast(v, 2, 63)) out.trusted_image_certificates = null;
  if (serverGroups && atLeast(v, 2, 71)) out.server_groups = [];
  return out;
}

export function flavorSummary(f: Flavor, ctx: RequestContext, links: ComputeLinks) {
  return { id: f.id, name: f.name, links: links.resource('flavors', f.id), ...(atLeast(ctx.version, 2, 55) ? { description: null } : {}) };
}

export function flavorDetail(f: Flavor, ctx: RequestContext, links: ComputeLinks) {
  const v = ctx.version;
  return {
    id: f.id,
    name: f.name,
    ram: f.ram,
    disk: f.disk,
    swap: atLeast(v, 2, 75) ? 0 : '',
    'OS-FLV-EXT-DATA:ephemeral': 0,
    'OS-FLV-DISABLED:disabled': false,
    vcpus: f.vcpus,
    'os-flavor-access:is_public': true,
    rxtx_factor: 1.0,
    links: links.resource('flavors', f.id),
    ...(atLeast(v, 2, 55) ? { description: null } : {}),
    ...(atLeast(v, 2, 61) ? { extra_specs: {} } : {}),
  };
}

/** A mapping as list and show give it (`_translate_attachment_detail_view`). */
export function attachmentView(b: DbBdmRow, ctx: RequestContext) {
  const v = ctx.version;
  const out: Record<string, unknown> = {};
  if (!atLeast(v, 2, 89)) out.id = b.volume_id;
  Object.assign(out, { volumeId: b.volume_id, serverId: b.server_id });
  if (b.device_name) out.device = b.device_name;
  if (atLeast(v, 2, 70)) out.tag = b.tag;
  if (atLeast(v, 2, 79)) out.delete_on_termination = b.delete_on_termination;
  if (atLeast(v, 2, 89)) Object.assign(out, { attachment_id: b.attachment_id, bdm_uuid: b.id });
  return out;
}

/** POST's answer: always `id` and `device`, never attachment_id (`VolumeAttachmentController.create`). */
export function attachCreatedView(b: DbBdmRow, ctx: RequestContext) {
  return {
    id: b.volume_id,
    serverId: b.server_id,
    volumeId: b.volume_id,
    device: b.device_name,
    ...(atLeast(ctx.version, 2, 70) ? { tag: b.tag } : {}),
    ...(atLeast(ctx.version, 2, 79) ? { delete_on_termination: b.delete_on_termination } : {}),
  };
}

/** `views/instance_actions`: `updated_at` from 2.58. */
export function instanceActionView(a: DbInstanceActionRow, ctx: RequestContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.server_id,
    message: a.message,
    project_id: a.project_id,
    request_id: a.request_id,
    start_time: isoCinder(a.start_time),
    user_id: a.user_id,
  };
  if (atLeast(ctx.version, 2, 58)) out.updated_at = isoCinder(a.updated_at);
  return out;
}

/** One action with its events: admins always; everyone from 2.51, without the traceback (policy `os-instance-actions:events`). */
export function instanceActionDetail(a: DbInstanceActionRow, s: DbServerRow, ctx: RequestContext): Record<string, unknown> {
  const out = instanceActionView(a, ctx);
  if (ctx.isAdmin || atLeast(ctx.version, 2, 51)) {
    out.events = a.events.map((e) => {
      const ev: Record<string, unknown> = {
        event: e.event,
        start_time: isoCinder(e.start_time),
        finish_time: isoCinder(e.finish_time),
        result: e.result,
      };
      if (ctx.isAdmin) ev.traceback = e.traceback;
      if (atLeast(ctx.version, 2, 62)) {
        ev.hostId = hostId(s);
        if (ctx.isAdmin) ev.host = s.host;
      }
      return ev;
    });
  }
  return out;
}

/** `views/keypairs.py`: `type` from 2.2; the detail (show) has the row's bookkeeping keys. */
export function keypairView(k: DbKeypairRow, ctx: RequestContext, detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
  if (atLeast(ctx.version, 2, 2)) out.type = k.type;
  if (detail) {
    Object.assign(out, {
      user_id: k.user_id,
      deleted: false,
      created_at: isoCinder(k.created_at),
      deleted_at: null,
      updated_at: null,
      id: 1,
    });
  }
  return out;
}
