import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from '../../domain/errors';
import { isUuidLike } from '../../domain/ids';
import type { Conn } from '../../db/connection';
import * as groupTypesDb from '../../db/groupTypes';
import type { DbGroupTypeRow } from '../../db/groupTypes';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { one, parseBool, type RawQuery } from '../listQuery';

/** A group type with its specs, as views need it. */
export interface GroupTypeWithSpecs extends DbGroupTypeRow {
  groupSpecs: Record<string, string | null>;
}

export const groupTypeNotFound = (id: string) => notFound(`Group type ${id} could not be found.`);
const nameNotFound = (name: string) => notFound(`Group type with name ${name} could not be found.`);
const exists = (name: string) => conflict(`Group Type ${name} already exists.`);

/** `strutils.bool_from_string(strict=True)` of is_public, with the group types controller's 400. */
function isPublicOf(v: boolean | string | undefined | null, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  return parseBool(v, 'is_public');
}

async function withSpecs(conn: Conn, rows: DbGroupTypeRow[]): Promise<GroupTypeWithSpecs[]> {
  const specs = await groupTypesDb.specsOf(
    conn,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, groupSpecs: specs.get(r.id) ?? {} }));
}

/**
 * A group type by id, or by name when the id is not a uuid or no type has it
 * (Cinder's `group/api.py:create` looks a uuid-like name up as a name too).
 */
export async function resolveGroupType(conn: Conn, ctx: RequestContext, nameOrId: string): Promise<DbGroupTypeRow> {
  const v = { isAdmin: ctx.isAdmin };
  if (!isUuidLike(nameOrId)) {
    const byName = await groupTypesDb.findByName(conn, nameOrId, v);
    if (!byName) throw nameNotFound(nameOrId);
    return byName;
  }
  const t = (await groupTypesDb.find(conn, nameOrId, v)) ?? (await groupTypesDb.findByName(conn, nameOrId, v));
  if (!t) throw groupTypeNotFound(nameOrId);
  return t;
}

const SORT_KEYS = new Set(['id', 'name', 'created_at', 'updated_at', 'is_public', 'description']);

/** Group types and their specs (`api/v3/group_types.py`, `group_specs.py`): admins manage them, everyone lists. */
export class GroupTypeService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async list(ctx: RequestContext, q: RawQuery): Promise<GroupTypeWithSpecs[]> {
    // Cinder: only an admin may filter on is_public (absent → public only; "None" → every type).
    let isPublic: boolean | undefined = true;
    if (ctx.isAdmin) {
      const raw = one(q.is_public);
      isPublic = raw === undefined ? true : raw.toLowerCase() === 'none' ? undefined : isPublicOf(raw, true);
    }
    const sort = (one(q.sort) ?? 'created_at:desc').split(',').map((s) => {
      const [key = '', dir = 'desc'] = s.trim().split(':');
      if (!SORT_KEYS.has(key)) throw badRequest('Invalid input received: Invalid sort key');
      if (dir !== 'asc' && dir !== 'desc') throw badRequest("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
      return { column: key, order: dir as 'asc' | 'desc' };
    });
    return withSpecs(this.db, await groupTypesDb.list(this.db, { isAdmin: ctx.isAdmin, isPublic }, sort));
  }

  async get(ctx: RequestContext, id: string): Promise<GroupTypeWithSpecs> {
    if (id === 'default') throw notFound('Default group type can not be found.'); // no `default_group_type` configured
    const t = await groupTypesDb.find(this.db, id, { isAdmin: ctx.isAdmin });
    if (!t) throw groupTypeNotFound(id);
    return (await withSpecs(this.db, [t]))[0]!;
  }

  async create(
    ctx: RequestContext,
    input: { name: string; description?: string | null; is_public?: boolean | string; group_specs?: Record<string, string | null> | null },
  ): Promise<GroupTypeWithSpecs> {
    requireAdmin(ctx, 'group:group_types:create');
    const name = input.name.trim();
    if (!name) throw badRequest("An invalid 'name' value was provided. The 'name' can not be empty.");
    const row: DbGroupTypeRow = {
      id: randomUUID(),
      name,
      description: input.description ?? null,
      is_public: isPublicOf(input.is_public, true),
      created_at: new Date(),
      updated_at: null,
    };
    await this.db
      .transaction(async (trx) => {
        if (await groupTypesDb.findByName(trx, name, { isAdmin: true })) throw exists(name);
        await groupTypesDb.insert(trx, row);
        await groupTypesDb.upsertSpecs(trx, row.id, input.group_specs ?? {});
      })
      .catch(duplicate(name));
    return { ...row, groupSpecs: { ...input.group_specs } };
  }

  async update(
    ctx: RequestContext,
    id: string,
    input: { name?: string | null; description?: string | null; is_public?: boolean | string | null },
  ): Promise<GroupTypeWithSpecs> {
    requireAdmin(ctx, 'group:group_types:update');
    const name = input.name ?? undefined;
    if (name !== undefined && name.length > 0 && name.trim().length === 0) throw badRequest('Group type name can not be empty.');
    const isPublic = input.is_public === undefined || input.is_public === null ? undefined : isPublicOf(input.is_public, true);
    if (!name && (input.description === undefined || input.description === null) && isPublic === undefined) {
      throw badRequest('Specify group type name, description or a combination thereof.');
    }
    await this.db
      .transaction(async (trx) => {
        const t = await groupTypesDb.lock(trx, id);
        if (!t) throw groupTypeNotFound(id);
        const fields: Parameters<typeof groupTypesDb.update>[2] = {};
        if (name) {
          if (name.trim() !== t.name && (await groupTypesDb.findByName(trx, name.trim(), { isAdmin: true }))) throw exists(name.trim());
          fields.name = name.trim();
        }
        if (input.description !== undefined && input.description !== null) fields.description = input.description;
        if (isPublic !== undefined) fields.is_public = isPublic;
        await groupTypesDb.update(trx, id, fields);
      })
      .catch(duplicate(name ?? ''));
    return this.get({ ...ctx, isAdmin: true }, id);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    requireAdmin(ctx, 'group:group_types:delete');
    await this.db.transaction(async (trx) => {
      if (!(await groupTypesDb.lock(trx, id))) throw groupTypeNotFound(id);
      if ((await groupTypesDb.groupsOfType(trx, id)) > 0) throw badRequest('Target group type is still in use.');
      await groupTypesDb.remove(trx, id);
    });
  }

  // --- group specs (admin) ----------------------------------------------------

  private async checkType(ctx: RequestContext, id: string, action: string): Promise<void> {
    requireAdmin(ctx, action);
    if (!(await groupTypesDb.find(this.db, id, { isAdmin: true }))) throw groupTypeNotFound(id);
  }

  async listSpecs(ctx: RequestContext, id: string): Promise<Record<string, string | null>> {
    await this.checkType(ctx, id, 'group:group_types_specs:get_all');
    return (await groupTypesDb.specsOf(this.db, [id])).get(id) ?? {};
  }

  async setSpecs(ctx: RequestContext, id: string, specs: Record<string, string | null>): Promise<Record<string, string | null>> {
    await this.checkType(ctx, id, 'group:group_types_specs:create');
    await groupTypesDb.upsertSpecs(this.db, id, specs);
    return specs;
  }

  async showSpec(ctx: RequestContext, id: string, key: string): Promise<Record<string, string | null>> {
    await this.checkType(ctx, id, 'group:group_types_specs:get');
    const specs = (await groupTypesDb.specsOf(this.db, [id])).get(id) ?? {};
    if (!(key in specs)) throw notFound(`Group Type ${id} has no extra spec with key ${key}.`);
    return { [key]: specs[key]! };
  }

  async updateSpec(
    ctx: RequestContext,
    id: string,
    key: string,
    body: Record<string, string | null>,
  ): Promise<Record<string, string | null>> {
    await this.checkType(ctx, id, 'group:group_types_specs:update');
    if (!(key in body)) throw badRequest('Request body and URI mismatch');
    await groupTypesDb.upsertSpecs(this.db, id, body);
    return body;
  }

  async deleteSpec(ctx: RequestContext, id: string, key: string): Promise<void> {
    await this.checkType(ctx, id, 'group:group_types_specs:delete');
    if (!(await groupTypesDb.deleteSpec(this.db, id, key))) throw notFound(`Group Type ${id} has no specs with key ${key}.`);
  }
}

/** Two concurrent creates (or renames) to one name: the unique index decides; the loser gets Cinder's 409. */
function duplicate(name: string) {
  return (err: unknown): never => {
    if ((err as { code?: string }).code === '23505') throw exists(name);
    throw err;
  };
}
