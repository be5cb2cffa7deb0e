import { randomUUID } from 'node:crypto';
import { badRequest, invalidInput, notFound } from '../../domain/errors';
import type { Tx } from '../../db/connection';
import * as encDb from '../../db/encryption';
import type { DbTypeEncryptionRow, EncryptionFields } from '../../db/encryption';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';

const POLICY = 'volume_extension:volume_type_encryption';
const typeNotFound = (id: string) => notFound(`Volume type ${id} could not be found.`);
const encryptionNotFound = (typeId: string) => notFound(`Volume type encryption for type ${typeId} does not exist.`);

/** The specs as a request gives them: Cinder accepts the key size as an integer or a string of digits. */
export type EncryptionInput = Omit<EncryptionFields, 'key_size'> & { key_size?: number | string | null };

/** The key size as stored. */
function normalise(fields: EncryptionInput): EncryptionFields {
  const out: EncryptionFields = { ...fields } as EncryptionFields;
  if (typeof fields.key_size === 'string') out.key_size = Number(fields.key_size);
  return out;
}

/**
 * Inside a volume create (or retype) transaction: a type with encryption specs
 * needs a key manager for each volume's key, and cairn has none, so the volume
 * is refused as Cinder refuses it when its key manager fails. The type row is
 * share-locked (here, unless the read that gave the type did) so that specs
 * created meanwhile (which lock it for update) are seen, or see this volume:
 * the lock must come in an earlier statement than this read, whose snapshot
 * then includes whatever committed before the lock was granted.
 */
export async function refuseEncryptedType(trx: Tx, type: { readonly id: string; readonly shareLocked?: true }): Promise<void> {
  if (!type.shareLocked) await trx('volume_types').where('id', type.id).forShare().first('id');
  if (await encDb.find(trx, type.id)) {
    throw badRequest('Key manager error: cairn has no key manager, so volumes of an encrypted volume type cannot be created.');
  }
}

/** Retype may not move a volume between encrypted and unencrypted types (Cinder's own rule). */
export async function refuseEncryptionChange(trx: Tx, fromTypeId: string, toTypeId: string): Promise<void> {
  await trx('volume_types').whereIn('id', [fromTypeId, toTypeId]).forShare().select('id');
  if (Boolean(await encDb.find(trx, fromTypeId)) !== Boolean(await encDb.find(trx, toTypeId))) {
    throw invalidInput('Retype cannot change encryption requirements.');
  }
}

/**
 * Volume type encryption specs (admin, Cinder's `volume_type_encryption.py`):
 * what a front-end (Nova/os-brick) or back-end encryptor would use. They can
 * be set, changed or removed only while no volume is of the type.
 */
export class EncryptionService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  private async checkType(conn: Tx | ServiceDeps['db'], typeId: string, lock = false): Promise<void> {
    if (!(await encDb.typeExists(conn, typeId, lock))) throw typeNotFound(typeId);
  }

  /** The specs, or undefined when the type has none (Cinder answers `{}` then). */
  async get(ctx: RequestContext, typeId: string): Promise<DbTypeEncryptionRow | undefined> {
    requireAdmin(ctx, `${POLICY}:get`);
    await this.checkType(this.db, typeId, false);
    return encDb.find(this.db, typeId);
  }

  async create(ctx: RequestContext, typeId: string, fields: EncryptionInput): Promise<DbTypeEncryptionRow> {
    requireAdmin(ctx, `${POLICY}:create`);
    return this.db.transaction(async (trx) => {
      await this.checkType(trx, typeId, true);
      if (await encDb.typeInUse(trx, typeId)) throw badRequest('Cannot create encryption specs. Volume type in use.');
      if (await encDb.find(trx, typeId)) throw badRequest(`Volume type encryption for type ${typeId} already exists.`);
      const f = normalise(fields);
      const row: DbTypeEncryptionRow = {
        volume_type_id: typeId,
        encryption_id: randomUUID(),
        provider: f.provider!,
        cipher: f.cipher ?? null,
        key_size: f.key_size ?? null,
        control_location: f.control_location!,
        created_at: new Date(),
        updated_at: null,
      };
      await encDb.insert(trx, row);
      return row;
    });
  }

  /** Changes the given fields; answers with them, as Cinder does. */
  async update(ctx: RequestContext, typeId: string, fields: EncryptionInput): Promise<EncryptionFields> {
    requireAdmin(ctx, `${POLICY}:update`);
    const f = normalise(fields);
    await this.db.transaction(async (trx) => {
      await this.checkType(trx, typeId, true);
      if (await encDb.typeInUse(trx, typeId)) throw badRequest('Cannot update encryption specs. Volume type in use.');
      if (!(await encDb.update(trx, typeId, f))) throw encryptionNotFound(typeId);
    });
    return f;
  }

  async delete(ctx: RequestContext, typeId: string): Promise<void> {
    requireAdmin(ctx, `${POLICY}:delete`);
    await this.db.transaction(async (trx) => {
      await this.checkType(trx, typeId, true);
      if (await encDb.typeInUse(trx, typeId)) throw badRequest('Cannot delete encryption specs. Volume type in use.');
      if (!(await encDb.remove(trx, typeId))) throw encryptionNotFound(typeId);
    });
  }

  /** One spec (`GET .../encryption/cipher`); a key the specs do not have is a 404. */
  async item(ctx: RequestContext, typeId: string, key: string): Promise<Record<string, unknown>> {
    const row = await this.get(ctx, typeId);
    const specs: Record<string, unknown> = row ? { ...row } : {};
    if (!row || !(key in specs) || key === 'created_at' || key === 'updated_at') throw encryptionNotFound(typeId);
    return { [key]: specs[key] };
  }
}
