import { badRequest, forbidden } from '../../domain/errors';
import { FLAVORS } from '../../domain/compute';
import type { Conn } from '../../db/connection';
import type { DbServerRow } from '../../db/servers';
import { isoCinder } from '../../domain/time';
import type { RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { MAX_LIMIT, one, type RawQuery } from '../listQuery';
import * as serversDb from '../../db/servers';

const HOUR = 3_600_000;

/** `simple_tenant_usage._parse_datetime`: the three formats Nova reads; no value → now. */
function parseTime(v: string | undefined, what: string): Date {
  if (v === undefined || v === '') return new Date();
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/.exec(v.trim());
  const d = m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ? m[7].slice(0, 4) : ''}Z`) : undefined;
  if (!d || Number.isNaN(d.getTime()))
    throw badRequest(`Invalid ${what} time. ${v} is not a valid datetime (expected %Y-%m-%dT%H:%M:%S[.%f])`);
  return d;
}

/**
 * The servers that ran in [start, end) (`instance_get_active_by_window_joined`), deleted ones included,
 * oldest first; from 2.40 a page of them: after `marker` (a server id), at most `limit`.
 */
async function serversInWindow(
  conn: Conn,
  start: Date,
  end: Date,
  page: { projectId?: string; marker?: string; limit?: number },
): Promise<DbServerRow[]> {
  const q = conn<DbServerRow>('servers')
    .where('created_at', '<', end)
    .andWhere((w) => {
      w.whereNull('deleted_at').orWhere('deleted_at', '>', start);
    })
    .orderBy([{ column: 'created_at' }, { column: 'id' }]);
  if (page.projectId !== undefined) q.where('project_id', page.projectId);
  if (page.marker !== undefined) {
    const m = await serversDb.findServerEvenDeleted(conn, page.marker);
    if (!m) throw badRequest(`marker [${page.marker}] not found`);
    q.whereRaw('(created_at, id) > (?, ?)', [m.created_at, m.id]);
  }
  if (page.limit !== undefined) q.limit(page.limit);
  return q;
}

/** `limit` and `marker` when `paged` (2.40): Horizon pages on with the last server's id until a page has no servers. */
function paging(q: RawQuery, paged: boolean): { marker?: string; limit?: number } {
  if (!paged) return {};
  const rawLimit = one(q.limit);
  if (rawLimit !== undefined && !/^\d+$/.test(rawLimit)) throw badRequest('limit param must be an integer');
  return { marker: one(q.marker), limit: Math.min(rawLimit === undefined ? MAX_LIMIT : Number(rawLimit), MAX_LIMIT) };
}

/**
 * Nova's `os-simple-tenant-usage`: per project, the hours its servers ran
 * between `start` and `end`, weighted by their flavors' vCPUs, RAM and disk.
 * cairn runs no guests: a server counts from its launch to its deletion.
 */
export class TenantUsageService {
  constructor(private readonly deps: ServiceDeps) {}

  private window(q: RawQuery): { start: Date; end: Date } {
    const start = parseTime(one(q.start), 'start');
    const end = parseTime(one(q.end), 'end');
    if (start > end) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    return { start, end };
  }

  private usage(projectId: string, servers: DbServerRow[], start: Date, end: Date, detailed: boolean): Record<string, unknown> {
    const now = new Date();
    const periodEnd = end > now ? now : end;
    let hours = 0;
    let gb = 0;
    let mb = 0;
    let vcpus = 0;
    const serverUsages = servers.map((s) => {
      const f = FLAVORS.find((x) => x.id === s.flavor_id) ?? { name: s.flavor_id, ram: 0, disk: 0, vcpus: 0 };
      const launched = s.launched_at ?? s.created_at;
      const from = launched > start ? launched : start;
      const until = s.deleted_at && s.deleted_at < periodEnd ? s.deleted_at : periodEnd;
      const h = Math.max(0, (until.getTime() - from.getTime()) / HOUR);
      hours += h;
      gb += h * f.disk;
      mb += h * f.ram;
      vcpus += h * f.vcpus;
      const ended = s.deleted_at ?? null;
      return {
        instance_id: s.id,
        name: s.name,
        hours: h,
        memory_mb: f.ram,
        local_gb: f.disk,
        vcpus: f.vcpus,
        tenant_id: s.project_id,
        flavor: f.name,
        started_at: isoCinder(launched),
        ended_at: isoCinder(ended),
        state: ended ? 'terminated' : s.vm_state,
        uptime: Math.floor(((ended ?? now).getTime() - launched.getTime()) / 1000),
      };
    });
    return {
      tenant_id: projectId,
      total_local_gb_usage: gb,
      total_vcpus_usage: vcpus,
      total_memory_mb_usage: mb,
      total_hours: hours,
      start: isoCinder(start),
      stop: isoCinder(end),
      ...(detailed ? { server_usages: serverUsages } : {}),
    };
  }

  /** Every project's usage (admin: `os_compute_api:os-simple-tenant-usage:list`). */
  async list(ctx: RequestContext, q: RawQuery, opts: { paged: boolean }): Promise<Record<string, unknown>[]> {
    if (!ctx.isAdmin) throw forbidden('os_compute_api:os-simple-tenant-usage:list');
    const { start, end } = this.window(q);
    const detailed = ['1', 'true', 'True'].includes(one(q.detailed) ?? '');
    const byProject = new Map<string, DbServerRow[]>();
    for (const s of await serversInWindow(this.deps.db, start, end, paging(q, opts.paged)))
      byProject.set(s.project_id, [...(byProject.get(s.project_id) ?? []), s]);
    return [...byProject].map(([p, servers]) => this.usage(p, servers, start, end, detailed));
  }

  /** One project's usage, with its servers; `{}` when it had none in the window (Nova's answer). */
  async show(ctx: RequestContext, projectId: string, q: RawQuery, opts: { paged: boolean }): Promise<Record<string, unknown>> {
    if (!ctx.isAdmin && projectId !== ctx.projectId) throw forbidden('os_compute_api:os-simple-tenant-usage:show');
    const { start, end } = this.window(q);
    const servers = await serversInWindow(this.deps.db, start, end, { projectId, ...paging(q, opts.paged) });
    return servers.length ? this.usage(projectId, servers, start, end, true) : {};
  }
}
