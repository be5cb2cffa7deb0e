import { badRequest, conflict, notFound } from '../../domain/errors';
import {
  serverDeleteBegins,
  ServerPowerState,
  ServerTaskState,
  ServerTransitions,
  ServerVmState,
  type Transition,
} from '../../domain/status';
import type { Conn } from '../../db/connection';
import * as serversDb from '../../db/servers';
import type { DbBdmRow, DbServerRow } from '../../db/servers';
import { rootOf } from './bdm';
import { requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { MAX_LIMIT, one, type RawQuery } from '../listQuery';
import type { SortTerm } from '../../db/keyset';
import { canonicalIpv6, createServer, type ServerCreateBody, type ServerCreateOptions, type ServerCreateServices } from './serverCreate';
import type { ServerOps } from './serverOps';
import { serverVmState } from '../status/columns';
import { moveOrRefuse, refuseUnlessFrom } from '../status/move';

export const instanceNotFound = (id: string) => notFound(`Instance ${id} could not be found.`);

/** `common.raise_http_conflict_for_instance_invalid_state`: the 409 of an action in the wrong state. */
export function invalidState(s: DbServerRow, action: string): never {
  const [attr, state] = s.task_state !== null ? ['task_state', s.task_state] : ['vm_state', s.vm_state];
  throw conflict(`Cannot '${action}' instance ${s.id} while it is in ${attr} ${state}`);
}

/** Whether the server has something to boot: an image root, or a volume at boot index 0. */
export const hasRoot = (s: DbServerRow, bdms: readonly DbBdmRow[]): boolean =>
  Boolean(s.image_ref) || rootOf(bdms.map((b) => ({ ...b, bootIndex: b.boot_index }))) !== undefined;

/** API status → the vm_states it shows (`common.task_and_vm_state_from_status`, cairn's states). */
const VM_STATES_OF_STATUS: Readonly<Record<string, readonly string[]>> = {
  BUILD: [ServerVmState.building],
  ACTIVE: [ServerVmState.active],
  SHUTOFF: [ServerVmState.stopped],
  ERROR: [ServerVmState.error],
};

/** Nova's server sort keys (`schemas/servers.py: VALID_SORT_KEYS`) that cairn's servers have a column for. */
const SORT_COLUMNS: Readonly<Record<string, string>> = {
  created_at: 'servers.created_at',
  updated_at: 'servers.updated_at',
  launched_at: 'servers.launched_at',
  terminated_at: 'servers.deleted_at',
  display_name: 'servers.name',
  display_description: 'servers.description',
  uuid: 'servers.id',
  vm_state: 'servers.vm_state',
  task_state: 'servers.task_state',
  power_state: 'servers.power_state',
  project_id: 'servers.project_id',
  user_id: 'servers.user_id',
  availability_zone: 'servers.availability_zone',
  host: 'servers.host',
  node: 'servers.host',
  image_ref: 'servers.image_ref',
  root_device_name: 'servers.root_device_name',
  instance_type_id: 'servers.flavor_id',
};
/** The rest of VALID_SORT_KEYS: accepted, constant for every cairn server, so they do not change the order. */
const CONSTANT_SORT_KEYS = new Set([
  'access_ip_v4',
  'access_ip_v6',
  'auto_disk_config',
  'config_drive',
  'hostname',
  'kernel_id',
  'key_name',
  'launch_index',
  'locked',
  'locked_by',
  'progress',
  'ramdisk_id',
]);
/** Keys only an admin may sort by; Nova drops them from a non-admin's list (`SERVER_LIST_IGNORE_SORT_KEY_FOR_NON_ADMIN`). */
const ADMIN_SORT_KEYS = new Set(['host', 'node']);

const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * `sort_key`/`sort_dir`, each repeatable: the i-th key goes with the i-th
 * direction (`common.get_sort_params`), a missing direction is `desc`.
 */
export function serverSort(q: RawQuery, isAdmin: boolean): SortTerm[] {
  const keys = all(q.sort_key);
  const dirs = all(q.sort_dir);
  if (dirs.length > Math.max(keys.length, 1)) throw badRequest('Sort direction size exceeds sort key size');
  const terms: SortTerm[] = [];
  keys.forEach((key, i) => {
    const dir = (dirs[i] ?? 'desc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') {
      throw badRequest(`Invalid input for query parameters sort_dir. Value: ${dirs[i]}. '${dirs[i]}' is not one of ['asc', 'desc']`);
    }
    if (!SORT_COLUMNS[key] && !CONSTANT_SORT_KEYS.has(key)) {
      throw badRequest(`Invalid input for query parameters sort_key. Value: ${key}. '${key}' is not one of the valid sort keys`);
    }
    if (ADMIN_SORT_KEYS.has(key) && !isAdmin) return;
    if (SORT_COLUMNS[key]) terms.push({ expr: SORT_COLUMNS[key]!, dir });
  });
  if (!keys.length && dirs.length) terms.push({ expr: 'servers.created_at', dir: dirs[0]!.toLowerCase() === 'asc' ? 'asc' : 'desc' });
  return terms;
}

export const projectScope = (ctx: RequestContext): string | undefined => (ctx.isAdmin ? undefined : ctx.projectId);

/** Servers: the record, its lifecycle (create, stop, start, delete) and lists. */
export class ServerService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly ops: ServerOps,
    private readonly cinder: ServerCreateServices,
  ) {}

  private get db() {
    return this.deps.db;
  }

  /** Records the server (BUILD) and starts its build; answers before the volumes are attached, as Nova does. */
  async create(
    ctx: RequestContext,
    body: ServerCreateBody,
    opts: ServerCreateOptions,
  ): Promise<{ server: DbServerRow; adminPass: string }> {
    const out = await createServer(this.deps, this.cinder, ctx, body, opts);
    this.ops.kick(out.server.id);
    return out;
  }

  async get(ctx: RequestContext, id: string, conn: Conn = this.db): Promise<DbServerRow> {
    const s = await serversDb.findServer(conn, id, projectScope(ctx));
    if (!s) throw instanceNotFound(id);
    return s;
  }

  /** The mappings of each server, by server id. */
  async mappings(ids: readonly string[]): Promise<Map<string, DbBdmRow[]>> {
    const out = new Map<string, DbBdmRow[]>(ids.map((id) => [id, []]));
    for (const b of await serversDb.bdmsOfServers(this.db, ids)) out.get(b.server_id)?.push(b);
    return out;
  }

  /** `GET /servers[/detail]`: `name` (a regular expression), `status`, `limit`, `marker`, `all_tenants` (admin). */
  async list(ctx: RequestContext, q: RawQuery): Promise<{ servers: DbServerRow[]; limit: number }> {
    const rawLimit = one(q.limit);
    if (rawLimit !== undefined && !/^\d+$/.test(rawLimit)) throw badRequest('limit param must be an integer');
    const limit = Math.min(rawLimit === undefined ? MAX_LIMIT : Number(rawLimit), MAX_LIMIT);
    const marker = one(q.marker);
    const allTenants = ctx.isAdmin && q.all_tenants !== undefined && !['0', 'false', 'False'].includes(one(q.all_tenants)!);
    const projectId = allTenants ? undefined : ctx.projectId;
    // Nova finds a marker among deleted servers too (Horizon pages on after deleting the last row it showed).
    if (marker !== undefined && !(await serversDb.findServerEvenDeleted(this.db, marker, projectId)))
      throw badRequest(`marker [${marker}] not found`);
    const status = one(q.status)?.toUpperCase();
    const vmStates = status === undefined ? undefined : (VM_STATES_OF_STATUS[status] ?? []);
    const sort = serverSort(q, ctx.isAdmin);
    const servers = await serversDb.listServers(this.db, { projectId, vmStates, name: one(q.name), limit, markerId: marker, sort });
    return { servers, limit };
  }

  /** `PUT /servers/{id}`: name and description (2.19). */
  async update(
    ctx: RequestContext,
    id: string,
    fields: { name?: string; description?: string | null; accessIPv4?: string; accessIPv6?: string },
  ): Promise<DbServerRow> {
    requireWriter(ctx, 'os_compute_api:servers:update');
    await this.get(ctx, id);
    const changes = {
      ...(fields.name !== undefined ? { name: fields.name } : {}),
      ...('description' in fields ? { description: fields.description ?? null } : {}),
      ...(fields.accessIPv4 !== undefined ? { access_ip_v4: fields.accessIPv4 } : {}),
      ...(fields.accessIPv6 !== undefined ? { access_ip_v6: canonicalIpv6(fields.accessIPv6) } : {}),
    };
    return (await serversDb.updateServer(this.db, id, changes))!;
  }

  /**
   * `DELETE /servers/{id}`: marks the delete (task_state `deleting`) and
   * starts it; the volumes are detached, the delete_on_termination ones
   * deleted and the server folders removed by serverOps.ts. Deleting again
   * while it runs is accepted, as in Nova.
   */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    requireWriter(ctx, 'os_compute_api:servers:delete');
    await this.db.transaction(async (trx) => {
      const s = await serversDb.lockServer(trx, id, projectScope(ctx));
      if (!s) throw instanceNotFound(id);
      if (s.task_state === ServerTaskState.deleting) return;
      // A build in flight sees the new task_state between its steps and hands over to the delete.
      await moveOrRefuse(trx, serverVmState(), id, serverDeleteBegins(s.vm_state as ServerVmState), () => invalidState(s, 'delete'), {
        task_state: ServerTaskState.deleting,
      });
    });
    this.ops.kick(id);
  }

  /** `os-stop`: ACTIVE or ERROR → SHUTOFF (`compute/api.py:stop`). */
  async stop(ctx: RequestContext, id: string): Promise<void> {
    await this.power(ctx, id, 'stop', ServerTransitions.stop, ServerPowerState.shutdown);
  }

  /**
   * `os-start`: SHUTOFF → ACTIVE; a server whose root volume was detached
   * has nothing to boot and stays stopped (409), as a stopped EC2 instance
   * without its root device will not start.
   */
  async start(ctx: RequestContext, id: string): Promise<void> {
    await this.power(ctx, id, 'start', ServerTransitions.start, ServerPowerState.running, async (trx, s) => {
      if (!hasRoot(s, await serversDb.bdmsOf(trx, s.id))) {
        throw conflict(`Cannot 'start' instance ${s.id}: it has no root volume; attach one while it is stopped`);
      }
    });
  }

  private async power(
    ctx: RequestContext,
    id: string,
    action: string,
    t: Transition<ServerVmState>,
    powerState: number,
    check?: (trx: Conn, s: DbServerRow) => Promise<void>,
  ): Promise<void> {
    requireWriter(ctx, `os_compute_api:servers:${action}`);
    await this.db.transaction(async (trx) => {
      const s = await serversDb.lockServer(trx, id, projectScope(ctx));
      if (!s) throw instanceNotFound(id);
      const refuse = () => invalidState(s, action);
      if (s.task_state !== null) refuse();
      refuseUnlessFrom(t, s.vm_state, refuse);
      await check?.(trx, s);
      await moveOrRefuse(trx, serverVmState(null), id, t, refuse, { power_state: powerState });
    });
  }
}
