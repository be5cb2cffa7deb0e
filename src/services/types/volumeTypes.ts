import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from '../../domain/errors';
import { isUuidLike } from '../../domain/ids';
import { DEFAULT_TYPE_ID, visibleSpecs } from '../../domain/volumeType';
import type { Conn, Tx } from '../../db/connection';
import * as typesDb from '../../db/volumeTypes';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeTypeRow } from '../../db/volumeTypes';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { checkTypeExtStorageSpecs } from '../backends/extstorage';
import { one, type RawQuery } from '../listQuery';

/** A type with its extra specs, as views need it. */
export interface VolumeTypeWithSpecs extends DbVolumeTypeRow {
  extraSpecs: Record<string, string>;
}

export interface CreateTypeInput {
  name: string;
  description?: string | null;
  extra_specs?: Record<string, string>;
  'os-volume-type-access:is_public'?: boolean | string;
  is_public?: boolean | string;
}

const visibility = (ctx: RequestContext, isPublic?: boolean): typesDb.VolumeTypeVisibility => ({
  isAdmin: ctx.isAdmin,
  projectId: ctx.projectId,
  isPublic,
});

const typeNotFound = (id: string) => notFound(`Volume type ${id} could not be found.`);

function boolish(v: boolean | string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  const s = v.toLowerCase();
  if (['true', '1', 't', 'yes', 'y', 'on'].includes(s)) return true;
  if (['false', '0', 'f', 'no', 'n', 'off'].includes(s)) return false;
  throw badRequest(`Invalid value '${v}' for is_public. Accepted values: True or False.`);
}

/**
 * The type a new volume gets: by id (uuid-like) or name, visible to the
 * caller, else the default type. Cinder's 404 texts differ for id and name.
 */
export async function resolveTypeForCreate(conn: Conn, ctx: RequestContext, nameOrId: string | undefined): Promise<VolumeTypeWithSpecs> {
  return resolveType(conn, ctx, nameOrId, false);
}

/** A type read with its row share-locked until the transaction ends: a volume of it is being made. */
export interface ShareLockedType extends VolumeTypeWithSpecs {
  readonly shareLocked: true;
}

/**
 * resolveTypeForCreate inside a new volume's transaction, the type's row share-locked by the same read (one
 * round trip): changes to the type's encryption, which lock it for update, wait for the volume or are seen by it
 * (src/services/types/encryption.ts `refuseEncryptedType`).
 */
export async function resolveTypeForNewVolume(trx: Tx, ctx: RequestContext, nameOrId: string | undefined): Promise<ShareLockedType> {
  return { ...(await resolveType(trx, ctx, nameOrId, true)), shareLocked: true };
}

async function resolveType(conn: Conn, ctx: RequestContext, nameOrId: string | undefined, forShare: boolean): Promise<VolumeTypeWithSpecs> {
  // With its specs in the same query: one round trip of a create's transaction.
  if (nameOrId === undefined) {
    const type = await typesDb.findWithSpecs(conn, { id: DEFAULT_TYPE_ID }, undefined, forShare);
    if (!type) throw notFound('Default volume type can not be found.');
    return type;
  }
  if (isUuidLike(nameOrId)) {
    const type = await typesDb.findWithSpecs(conn, { id: nameOrId }, visibility(ctx), forShare);
    if (!type) throw typeNotFound(nameOrId);
    return type;
  }
  const type = await typesDb.findWithSpecs(conn, { name: nameOrId }, visibility(ctx), forShare);
  if (!type) throw notFound(`Volume type with name ${nameOrId} could not be found.`);
  return type;
}

export class VolumeTypeService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async list(ctx: RequestContext, q: RawQuery): Promise<VolumeTypeWithSpecs[]> {
    let isPublic: boolean | undefined;
    if (ctx.isAdmin) {
      const raw = one(q.is_public);
      // Cinder: absent → public (plus the caller's private ones); "None" → every type.
      isPublic = raw === undefined ? true : raw.toLowerCase() === 'none' ? undefined : boolish(raw, true);
    }
    const rows =
      isPublic === true
        ? await typesDb.listVisibleWithSpecs(this.db, { isAdmin: false, projectId: ctx.projectId }, 'created_at')
        : await typesDb.listVisibleWithSpecs(this.db, visibility(ctx, isPublic), 'created_at');
    return rows.reverse();
  }

  async get(ctx: RequestContext, id: string, conn: Conn = this.db): Promise<VolumeTypeWithSpecs> {
    const type = await typesDb.findWithSpecs(conn, { id }, visibility(ctx));
    if (!type) throw typeNotFound(id);
    return type;
  }

  async getDefault(): Promise<VolumeTypeWithSpecs> {
    const type = await typesDb.findWithSpecs(this.db, { id: DEFAULT_TYPE_ID });
    if (!type) throw notFound('Default volume type can not be found.');
    return type;
  }

  async create(ctx: RequestContext, input: CreateTypeInput): Promise<VolumeTypeWithSpecs> {
    requireAdmin(ctx, 'volume_extension:types_manage');
    const name = input.name.trim();
    if (name.length === 0) throw badRequest('Volume type name can not be empty.');
    const isPublic = boolish(input['os-volume-type-access:is_public'] ?? input.is_public, true);
    const id = randomUUID();
    await this.db
      .transaction(async (trx) => {
        if (await typesDb.findByName(trx, name)) throw conflict(`Volume Type ${name} already exists.`);
        await typesDb.insert(trx, { id, name, description: input.description ?? null, is_public: isPublic, created_at: new Date() });
        // `extstorage:*` specs are checked against the workers' providers as they are written (400 if wrong).
        await checkTypeExtStorageSpecs(trx, this.deps.config, input.extra_specs ?? {}, Object.keys(input.extra_specs ?? {}));
        await typesDb.upsertExtraSpecs(trx, id, input.extra_specs ?? {});
      })
      .catch(rethrowDuplicateName(name));
    return this.get({ ...ctx, isAdmin: true }, id);
  }

  async update(
    ctx: RequestContext,
    id: string,
    input: { name?: string | null; description?: string | null; is_public?: boolean | string },
  ): Promise<VolumeTypeWithSpecs> {
    requireAdmin(ctx, 'volume_extension:types_manage');
    if (input.name === undefined && input.description === undefined && input.is_public === undefined) {
      throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
    }
    const fields: Parameters<typeof typesDb.update>[2] = {};
    if (input.name !== undefined && input.name !== null) {
      if (input.name.trim() === '') throw badRequest('Volume type name can not be empty.');
      fields.name = input.name.trim();
    }
    if (input.description !== undefined) fields.description = input.description;
    if (input.is_public !== undefined) fields.is_public = boolish(input.is_public, true);
    await this.db
      .transaction(async (trx) => {
        const current = await typesDb.lockForUpdate(trx, id);
        if (!current) throw typeNotFound(id);
        if (fields.name && fields.name !== current.name && (await typesDb.findByName(trx, fields.name))) {
          throw conflict(`Volume Type ${fields.name} already exists.`);
        }
        await typesDb.update(trx, id, fields);
      })
      .catch(rethrowDuplicateName(fields.name ?? ''));
    return this.get(ctx, id);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    requireAdmin(ctx, 'volume_extension:types_manage');
    if (id === DEFAULT_TYPE_ID) throw badRequest('Default volume type can not be deleted.');
    await this.db.transaction(async (trx) => {
      if (!(await typesDb.lockForUpdate(trx, id))) throw typeNotFound(id);
      if ((await volumesDb.countOfType(trx, id)) > 0) {
        throw badRequest(`Volume Type ${id} deletion is not allowed with volumes present with the type.`);
      }
      await typesDb.softDelete(trx, id);
    });
  }

  // --- extra specs ----------------------------------------------------------

  /** `types_extra_specs:read_sensitive`: a non-admin sees the user-visible keys only. */
  async getExtraSpecs(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    return visibleSpecs(ctx, (await this.get(ctx, id)).extraSpecs);
  }

  /** Sets (merges) specs. Cinder refuses while volumes of the type exist. */
  async setExtraSpecs(ctx: RequestContext, id: string, specs: Record<string, string>): Promise<Record<string, string>> {
    requireAdmin(ctx, 'volume_extension:types_extra_specs:create');
    await this.inUnusedType(id, async (trx) => {
      const current = (await typesDb.extraSpecsOf(trx, [id])).get(id) ?? {};
      await checkTypeExtStorageSpecs(trx, this.deps.config, { ...current, ...specs }, Object.keys(specs));
      await typesDb.upsertExtraSpecs(trx, id, specs);
    });
    return specs;
  }

  async getExtraSpec(ctx: RequestContext, id: string, key: string): Promise<Record<string, string>> {
    const specs = await this.getExtraSpecs(ctx, id);
    // A key the caller may not read is as absent as a missing one (Cinder's show).
    if (!Object.hasOwn(specs, key)) throw notFound(`Volume Type ${id} has no extra specs with key ${key}.`);
    return { [key]: specs[key]! };
  }

  async setExtraSpec(ctx: RequestContext, id: string, key: string, body: Record<string, string>): Promise<Record<string, string>> {
    const keys = Object.keys(body);
    if (keys.length > 1) throw badRequest('Request body contains too many items.');
    if (keys[0] !== key) throw badRequest('Request body and URI mismatch');
    return this.setExtraSpecs(ctx, id, body);
  }

  async deleteExtraSpec(ctx: RequestContext, id: string, key: string): Promise<void> {
    requireAdmin(ctx, 'volume_extension:types_extra_specs:delete');
    await this.inUnusedType(id, async (trx) => {
      if (!(await typesDb.deleteExtraSpec(trx, id, key))) {
        throw notFound(`Volume Type ${id} has no extra specs with key ${key}.`);
      }
    });
  }

  private async inUnusedType(id: string, change: (trx: Tx) => Promise<void>): Promise<void> {
    await this.db.transaction(async (trx) => {
      if (!(await typesDb.lockForUpdate(trx, id))) throw typeNotFound(id);
      if ((await volumesDb.countOfType(trx, id)) > 0) throw badRequest('Volume Type is currently in use.');
      await change(trx);
    });
  }

  // --- access to private types ---------------------------------------------

  async listAccess(ctx: RequestContext, id: string): Promise<Array<{ volume_type_id: string; project_id: string }>> {
    requireAdmin(ctx, 'volume_extension:volume_type_access');
    const type = await typesDb.findById(this.db, id);
    if (!type) throw typeNotFound(id);
    if (type.is_public) throw notFound('Access list not available for public volume types.');
    return (await typesDb.listProjects(this.db, id)).map((project_id) => ({ volume_type_id: id, project_id }));
  }

  async addAccess(ctx: RequestContext, id: string, project: string): Promise<void> {
    requireAdmin(ctx, 'volume_extension:volume_type_access:addProjectAccess');
    await this.db.transaction(async (trx) => {
      const type = await typesDb.lockForUpdate(trx, id);
      if (!type) throw typeNotFound(id);
      if (type.is_public) throw badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
      if (!(await typesDb.addProject(trx, id, project))) {
        throw conflict(`Volume type access for ${id}/${project} already exists.`);
      }
    });
  }

  async removeAccess(ctx: RequestContext, id: string, project: string): Promise<void> {
    requireAdmin(ctx, 'volume_extension:volume_type_access:removeProjectAccess');
    await this.db.transaction(async (trx) => {
      const type = await typesDb.lockForUpdate(trx, id);
      if (!type) throw typeNotFound(id);
      if (type.is_public) throw badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
      if (!(await typesDb.removeProject(trx, id, project))) {
        throw notFound(`Volume type access not found for ${id}/${project}.`);
      }
    });
  }
}

/** Two concurrent creates of one name: the unique index decides, and the loser gets Cinder's 409. */
function rethrowDuplicateName(name: string) {
  return (err: unknown): never => {
    if ((err as { code?: string }).code === '23505') throw conflict(`Volume Type ${name} already exists.`);
    throw err;
  };
}
