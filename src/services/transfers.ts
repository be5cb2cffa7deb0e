import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { badRequest, invalidVolume, notFound } from '../domain/errors';
import { SnapshotStatus, VolumeTransferTransitions } from '../domain/status';
import * as snapshotsDb from '../db/snapshots';
import * as transfersDb from '../db/transfers';
import type { DbTransferRow } from '../db/transfers';
import * as typesDb from '../db/volumeTypes';
import * as volumesDb from '../db/volumes';
import { requireWriter, type RequestContext } from '../domain/context';
import type { ServiceDeps } from './deps';
import { one, parsePaging, type ListRules, type RawQuery } from './listQuery';
import { chargeQuota } from './quotas/quotas';
import { transferredVolumeStatus, volumeStatus } from './status/columns';
import { moveIfStill, moveOrRefuse, refuseUnlessFrom } from './status/move';

/** Cinder's `volume_transfer_salt_length` and `volume_transfer_key_length`. */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

const transferNotFound = (id: string) => notFound(`Transfer ${id} could not be found.`);
const hashOf = (salt: string, key: string) =>
  createHash('sha1')
    .update(salt + key)
    .digest('hex');
const randomHex = (chars: number) =>
  randomBytes(Math.ceil(chars / 2))
    .toString('hex')
    .slice(0, chars);

const SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: 'transfers.id',
  created_at: 'transfers.created_at',
  name: "coalesce(transfers.display_name, '')",
  volume_id: 'transfers.volume_id',
};

export interface CreateTransferInput {
  volume_id: string;
  name?: string | null;
  no_snapshots?: boolean | string;
}

/** A new transfer with the one thing never stored: its auth key. */
export type CreatedTransfer = DbTransferRow & { auth_key: string };

/**
 * Volume transfers (`cinder/transfer/api.py`): the owner offers an available
 * volume (it becomes `awaiting-transfer`) and hands the auth key over out of
 * band; a member of any project who has the key accepts it, and the volume
 * (with its snapshots, unless `no_snapshots`) moves to that project in one
 * transaction that checks the new owner's quota. Usage is summed from the
 * rows, so moving them moves the usage from the donor to the recipient.
 */
export class TransferService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  private scopeOf(ctx: RequestContext, allTenants = true): transfersDb.TransferScope {
    return { projectId: ctx.isAdmin && allTenants ? undefined : ctx.projectId };
  }

  async create(ctx: RequestContext, input: CreateTransferInput): Promise<CreatedTransfer> {
    requireWriter(ctx, 'volume:create_transfer');
    const noSnapshots =
      input.no_snapshots === true || (typeof input.no_snapshots === 'string' && /^(1|t|true|on|y|yes)$/i.test(input.no_snapshots));
    const authKey = randomHex(KEY_LENGTH);
    const salt = randomHex(SALT_LENGTH);
    const row: DbTransferRow = {
      id: randomUUID(),
      volume_id: input.volume_id,
      display_name: input.name?.trim() ?? null,
      salt,
      crypt_hash: hashOf(salt, authKey),
      no_snapshots: noSnapshots,
      source_project_id: '',
      created_at: new Date(),
    };
    await this.db.transaction(async (trx) => {
      const vol = await volumesDb.lock(trx, input.volume_id, { projectId: ctx.isAdmin ? undefined : ctx.projectId });
      if (!vol) throw notFound(`Volume ${input.volume_id} could not be found.`);
      if (!noSnapshots) {
        const busy = (await snapshotsDb.ofVolume(trx, vol.id, true)).find((s) => s.status !== SnapshotStatus.available);
        if (busy)
          throw badRequest(`Invalid snapshot: Snapshot ${busy.id} of the volume must be available, but its status is ${busy.status}.`);
      }
      await moveOrRefuse(trx, volumeStatus, vol.id, VolumeTransferTransitions.create, () => invalidVolume('status must be available'));
      row.source_project_id = vol.project_id;
      await transfersDb.insert(trx, row);
    });
    return { ...row, auth_key: authKey };
  }

  async get(ctx: RequestContext, id: string): Promise<DbTransferRow> {
    const t = await transfersDb.find(this.db, id, this.scopeOf(ctx));
    if (!t) throw transferNotFound(id);
    return t;
  }

  /** The caller's project's pending transfers; an admin's `all_tenants` lists every project's. */
  async list(ctx: RequestContext, q: RawQuery, rules: ListRules): Promise<DbTransferRow[]> {
    const allTenants = q.all_tenants !== undefined && one(q.all_tenants) !== '0' && one(q.all_tenants)?.toLowerCase() !== 'false';
    const paging = parsePaging(q, SORT_COLUMNS, rules);
    const scope = this.scopeOf(ctx, allTenants);
    if (paging.marker !== undefined && !(await transfersDb.find(this.db, paging.marker, scope))) throw transferNotFound(paging.marker);
    // Other filters are dropped, as Cinder's remove_invalid_filter_options does.
    const filters = { id: one(q.id), volume_id: one(q.volume_id), display_name: one(q.name) };
    return transfersDb.list(this.db, {
      scope,
      filters,
      sort: paging.sort,
      limit: paging.limit,
      offset: paging.offset,
      markerId: paging.marker,
    });
  }

  /** Cancels the offer: the row goes and the volume is available to its owner again. */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    requireWriter(ctx, 'volume:delete_transfer');
    await this.db.transaction(async (trx) => {
      const t = await transfersDb.lock(trx, id, this.scopeOf(ctx));
      if (!t) throw transferNotFound(id);
      await moveIfStill(trx, volumeStatus, t.volume_id, VolumeTransferTransitions.cancel);
      await transfersDb.remove(trx, id);
    });
  }

  /** Any project's member with the auth key; the recipient's quota must hold the volume (and the snapshots it brings). */
  async accept(ctx: RequestContext, id: string, authKey: string | number): Promise<DbTransferRow> {
    requireWriter(ctx, 'volume:accept_transfer');
    return this.db.transaction(async (trx) => {
      const t = await transfersDb.lock(trx, id, { projectId: undefined });
      if (!t) throw transferNotFound(id);
      const expected = Buffer.from(t.crypt_hash);
      const given = Buffer.from(hashOf(t.salt, String(authKey)));
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        throw badRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
      }
      const vol = await volumesDb.lock(trx, t.volume_id, { projectId: undefined });
      const a = VolumeTransferTransitions.accept;
      const refuse = () =>
        invalidVolume(`Transfer ${id}: Volume id ${t.volume_id} in unexpected state ${vol?.status}, expected awaiting-transfer`);
      if (!vol) throw refuse();
      refuseUnlessFrom(a, vol.status, refuse);
      const type = await typesDb.findById(trx, vol.volume_type_id);
      const volumeType = type ? { id: type.id, name: type.name } : undefined;
      // Checked before the rows move, each against what the recipient holds by then (one project lock throughout).
      await chargeQuota(trx, ctx.projectId, { resource: 'volumes', volumes: 1, gigabytes: vol.size, volumeType, perVolumeSize: vol.size });
      const snaps = t.no_snapshots ? [] : await snapshotsDb.ofVolume(trx, vol.id, true);
      const owner = { projectId: ctx.projectId, userId: ctx.userId };
      await moveOrRefuse(trx, transferredVolumeStatus, vol.id, a, refuse, owner);
      if (snaps.length) {
        await chargeQuota(trx, ctx.projectId, {
          resource: 'snapshots',
          snapshots: snaps.length,
          gigabytes: snaps.reduce((n, s) => n + s.size, 0),
          volumeType,
        });
        await transfersDb.moveSnapshots(
          trx,
          snaps.map((s) => s.id),
          owner,
        );
      }
      await transfersDb.remove(trx, id);
      return t;
    });
  }
}
