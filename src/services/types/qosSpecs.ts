import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from '../../domain/errors';
import * as qosDb from '../../db/qosSpecs';
import type { DbQosSpecsRow } from '../../db/qosSpecs';
import { requireAdmin, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { one, parseBool, parsePaging, type ListRules, type RawQuery } from '../listQuery';

/** `cinder/volume/qos_specs.py`: who enforces the specs. */
export const QOS_CONSUMERS = ['front-end', 'back-end', 'both'] as const;
const DEFAULT_CONSUMER = 'back-end';
const POLICY = 'volume_extension:qos_specs_manage';

const qosNotFound = (id: string) => notFound(`No such QoS spec ${id}.`);
const typeNotFound = (id: string) => notFound(`Volume type ${id} could not be found.`);

/** Locks the volume type, then the specs, in that order (as every association change does); 404 for either missing. */
async function lockTypeAndSpecs(trx: Parameters<typeof qosDb.lockType>[0], id: string, typeId: string) {
  const type = await qosDb.lockType(trx, typeId);
  if (!type) throw typeNotFound(typeId);
  if (!(await qosDb.lock(trx, id))) throw qosNotFound(id);
  return type;
}

/** Cinder's InvalidQoSSpecs for a consumer it does not know. */
function checkConsumer(consumer: string): void {
  if (!(QOS_CONSUMERS as readonly string[]).includes(consumer)) {
    throw badRequest(`Invalid qos specs: Valid consumer of QoS specs are: ['front-end', 'back-end', 'both']`);
  }
}

const SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'qos_specs.id',
  name: 'qos_specs.name',
  consumer: 'qos_specs.consumer',
  created_at: 'qos_specs.created_at',
};
const FILTERS = new Set(['id', 'name', 'consumer']);

/**
 * QoS specs (admin only, `volume_extension:qos_specs_manage:*`): named key/value
 * sets for a consumer, associated with volume types. cairn's backends do not
 * enforce back-end specs (their pools report `QoS_support: false`), as
 * Cinder's drivers without QoS support ignore them.
 */
export class QosSpecsService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  async list(ctx: RequestContext, q: RawQuery, rules: ListRules): Promise<DbQosSpecsRow[]> {
    requireAdmin(ctx, `${POLICY}:get_all`);
    const paging = parsePaging(q, SORT_COLUMNS, rules);
    const filters: qosDb.QosListQuery['filters'] = {};
    // Cinder drops filters it does not allow here (`remove_invalid_filter_options`), rather than refusing them.
    for (const k of FILTERS) filters[k as keyof typeof filters] = one(q[k]);
    if (paging.marker !== undefined && !(await qosDb.find(this.db, paging.marker))) throw qosNotFound(paging.marker);
    return qosDb.list(this.db, { filters, sort: paging.sort, limit: paging.limit, offset: paging.offset, markerId: paging.marker });
  }

  async get(ctx: RequestContext, id: string): Promise<DbQosSpecsRow> {
    requireAdmin(ctx, `${POLICY}:get`);
    const row = await qosDb.find(this.db, id);
    if (!row) throw qosNotFound(id);
    return row;
  }

  /** `name` and `consumer` are the set's own; every other key is a spec. A taken name is Cinder's 409. */
  async create(ctx: RequestContext, body: Record<string, string>): Promise<DbQosSpecsRow> {
    requireAdmin(ctx, `${POLICY}:create`);
    const { name: rawName, consumer = DEFAULT_CONSUMER, ...specs } = body;
    const name = String(rawName).trim();
    if (name === '') throw badRequest('Please specify a name for QoS specs.');
    checkConsumer(consumer);
    const row: DbQosSpecsRow = { id: randomUUID(), name, consumer, specs, created_at: new Date(), updated_at: null };
    await this.db.transaction(async (trx) => {
      // Serialises creates of one name; the unique index backs it.
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`qos_specs:${name}`]);
      if (await qosDb.findByName(trx, name)) throw conflict(`QoS Specs ${name} already exists.`);
      await qosDb.insert(trx, row);
    });
    return row;
  }

  /** PUT: sets keys (and `consumer`, validated); answers with what was sent, as Cinder. */
  async setKeys(ctx: RequestContext, id: string, keys: Record<string, string>): Promise<void> {
    requireAdmin(ctx, `${POLICY}:update`);
    const { consumer, ...specs } = keys;
    if (consumer !== undefined) checkConsumer(consumer);
    await this.db.transaction(async (trx) => {
      const row = await qosDb.lock(trx, id);
      if (!row) throw qosNotFound(id);
      await qosDb.update(trx, id, { consumer, specs: { ...row.specs, ...specs } });
    });
  }

  /** `delete_keys`: every key must exist (Cinder's QoSSpecsKeyNotFound, a 400 here) or none is removed. */
  async unsetKeys(ctx: RequestContext, id: string, keys: readonly string[]): Promise<void> {
    requireAdmin(ctx, `${POLICY}:delete`);
    await this.db.transaction(async (trx) => {
      const row = await qosDb.lock(trx, id);
      if (!row) throw qosNotFound(id);
      const missing = keys.find((k) => !(k in row.specs));
      if (missing !== undefined) throw badRequest(`QoS spec ${id} has no spec with key ${missing}.`);
      await qosDb.update(trx, id, { specs: Object.fromEntries(Object.entries(row.specs).filter(([k]) => !keys.includes(k))) });
    });
  }

  /** Refused while volume types use the specs, unless `force`, which disassociates them first. */
  async delete(ctx: RequestContext, id: string, force: string | undefined): Promise<void> {
    requireAdmin(ctx, `${POLICY}:delete`);
    const forced = force !== undefined && parseBool(force, 'force');
    await this.db.transaction(async (trx) => {
      if (!(await qosDb.lock(trx, id))) throw qosNotFound(id);
      if (!forced && (await qosDb.associatedTypes(trx, id)).length > 0) throw badRequest('Qos specs still in use.');
      await qosDb.disassociateAll(trx, id);
      await qosDb.remove(trx, id);
    });
  }

  async associations(ctx: RequestContext, id: string): Promise<Array<{ id: string; name: string }>> {
    requireAdmin(ctx, `${POLICY}:get`);
    await this.get(ctx, id);
    return qosDb.associatedTypes(this.db, id);
  }

  /** A type has at most one set of specs: another's is Cinder's InvalidVolumeType; the same one again is fine. */
  async associate(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void> {
    requireAdmin(ctx, `${POLICY}:update`);
    if (!typeId) throw badRequest('Volume Type id must not be None.');
    await this.db.transaction(async (trx) => {
      const type = await lockTypeAndSpecs(trx, id, typeId);
      if (type.qos_specs_id !== null && type.qos_specs_id !== id) {
        throw badRequest(`Invalid volume type: Type ${typeId} is already associated with another qos specs: ${type.qos_specs_id}`);
      }
      await qosDb.setTypeQos(trx, typeId, id);
    });
  }

  async disassociate(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void> {
    requireAdmin(ctx, `${POLICY}:update`);
    if (!typeId) throw badRequest('Volume Type id must not be None.');
    await this.db.transaction(async (trx) => {
      const type = await lockTypeAndSpecs(trx, id, typeId);
      // Cinder clears only this specs' association; a type associated with other specs keeps it.
      if (type.qos_specs_id === id) await qosDb.setTypeQos(trx, typeId, null);
    });
  }

  async disassociateAll(ctx: RequestContext, id: string): Promise<void> {
    requireAdmin(ctx, `${POLICY}:update`);
    await this.db.transaction(async (trx) => {
      if (!(await qosDb.lock(trx, id))) throw qosNotFound(id);
      await qosDb.disassociateAll(trx, id);
    });
  }
}
