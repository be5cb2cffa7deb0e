import { randomUUID } from 'node:crypto';
import { isUuidLike } from '../../domain/ids';
import { ApiError, badRequest, invalidInput, invalidVolume, notFound } from '../../domain/errors';
import {
  AttachStatus,
  SHOWN_ATTACHMENT_STATUSES,
  VolumeStatus,
  VolumeTransitions,
  VOLUME_DELETE_REFUSAL,
  type Transition,
} from '../../domain/status';
import type { Conn, Tx } from '../../db/connection';
import * as volumesDb from '../../db/volumes';
import type { DbVolumeRow, DbVolumeView } from '../../db/volumes';
import { requireAdmin, requireWriter, scopeOf, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { parsePaging, type Paging, type RawQuery } from '../listQuery';
import { VOLUME_SORT_COLUMNS, volumeFilters, type VolumeListRules } from './listFilters';
import { checkExtStorageSpecs } from '../backends/extstorage';
import { placeVolume } from '../backends/placement';
import { refuseEncryptedType } from '../types/encryption';
import { checkItemBody, metadataItem, nextMetadata, withoutItem } from './metadata';
import { chargeQuota } from '../quotas/quotas';
import { recordMessage, MessageDetail, MessageEvent } from '../messages/messages';
import { enqueue } from '../tasks/outbox';
import { resolveTypeForNewVolume } from '../types/volumeTypes';
import {
  checkOneSource,
  hasCopySource,
  imagePayload,
  lockSource,
  placeFromSource,
  resolveImage,
  sizeFromImage,
  sizeFromSource,
  sourceColumns,
  sourcePayload,
  typeForSource,
  volumeImageMetadata,
} from './sources';
import { imageServiceOf } from '../images';
import type { Image } from '../../domain/image';
import { snapshotsForVolumeDelete } from '../snapshots/cascade';
import { groupForNewVolume } from '../groups/groups';
import type { BackupService } from '../backups/backups';
import { TaskKind } from '../../domain/status';
import { volumeStatus } from '../status/columns';
import { moveOrRefuse } from '../status/move';

export interface CreateVolumeInput {
  size?: number | string | null;
  name?: string | null;
  display_name?: string | null;
  description?: string | null;
  display_description?: string | null;
  volume_type?: string | null;
  availability_zone?: string | null;
  metadata?: Record<string, string> | null;
  snapshot_id?: string | null;
  source_volid?: string | null;
  imageRef?: string | null;
  image_id?: string | null;
  backup_id?: string | null;
  multiattach?: boolean | null;
  consistencygroup_id?: string | null;
  group_id?: string | null;
}

export interface UpdateVolumeInput {
  name?: string | null;
  display_name?: string | null;
  description?: string | null;
  display_description?: string | null;
  metadata?: Record<string, string> | null;
}

/**
 * No type asked, a volume from an image: the image's `cinder_img_volume_type` property names it (Cinder's
 * `_get_volume_type` in the create flow); one that cannot be found gives the default, as Cinder warns and goes on.
 */
async function typeFromImage(trx: Tx, ctx: RequestContext, image: Image) {
  const named = image.properties.cinder_img_volume_type;
  if (typeof named === 'string' && named) {
    try {
      return await resolveTypeForNewVolume(trx, ctx, named);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
  return resolveTypeForNewVolume(trx, ctx, undefined);
}

export class VolumeService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly backups: BackupService,
  ) {}

  private get db() {
    return this.deps.db;
  }

  /** 404 unless the volume exists in the caller's scope. */
  async get(ctx: RequestContext, id: string, conn: Conn = this.db): Promise<DbVolumeView> {
    const v = await volumesDb.findShown(conn, id, scopeOf(ctx, true), SHOWN_ATTACHMENT_STATUSES);
    if (!v) throw notFound(`Volume ${id} could not be found.`);
    return v;
  }

  /**
   * `fromBackup`: a `backup_id` is a source the backup service fills the volume from (3.47; Cinder ignores it
   * before). Inside `outer`, the caller's transaction, when given (its own is then a savepoint): the volume and
   * its task commit with the caller's rows, and the caller tells the relay.
   */
  async create(ctx: RequestContext, input: CreateVolumeInput, opts: { fromBackup?: boolean } = {}, outer?: Tx): Promise<DbVolumeView> {
    requireWriter(ctx, 'volume:create');
    if (input.multiattach) {
      throw badRequest(
        'multiattach parameter has been removed. The default behavior is to use multiattach ' +
          'enabled volume types. Contact your administrator to create a multiattach enabled volume type and use ' +
          'it to create multiattach volumes.',
      );
    }
    checkOneSource(input);
    if (input.backup_id && opts.fromBackup) return this.createFromBackup(ctx, input, input.backup_id, outer);
    // An image (services/volumes/sources.ts) is looked up before the transaction: it may live in an external Glance.
    const imageRef = input.imageRef ?? input.image_id;
    const image = imageRef
      ? await resolveImage(imageServiceOf({ db: outer ?? this.db, config: this.deps.config }), ctx, imageRef)
      : undefined;
    if ((input.size === undefined || input.size === null) && !hasCopySource(input) && !image) {
      // Cinder 21 answers this with webob's bare 400 text.
      throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
    }
    const asked = input.size === undefined || input.size === null ? undefined : Number(input.size);
    if (asked !== undefined && (!Number.isInteger(asked) || asked < 1)) {
      throw invalidInput(`Volume size '${input.size}' must be an integer and greater than 0`);
    }
    const az = input.availability_zone ?? this.deps.config.availabilityZone;
    if (az !== this.deps.config.availabilityZone) throw invalidInput(`Availability zone '${az}' is invalid.`);

    // Cinder looks a type up only when one is given (`if req_volume_type:`): `""` (Horizon's volume-from-snapshot
    // form sends it) means none, as null does.
    const askedType = input.volume_type || undefined;
    const id = randomUUID();
    const now = new Date();
    let created: DbVolumeView | undefined;
    await (outer ?? this.db).transaction(async (trx) => {
      // A snapshot or volume to copy (services/volumes/sources.ts) decides the default size, the type and the backend.
      const source = await lockSource(trx, ctx, input);
      const size = source ? sizeFromSource(asked, source) : image ? sizeFromImage(asked, image) : asked!;
      const type = source
        ? await typeForSource(trx, ctx, this.deps.config, askedType, source)
        : askedType === undefined && image
          ? await typeFromImage(trx, ctx, image)
          : await resolveTypeForNewVolume(trx, ctx, askedType);
      await refuseEncryptedType(trx, type); // no key manager (encryption.ts)
      // The volume row inserted below is the charge: the check holds the project's quota lock until commit.
      await chargeQuota(trx, ctx.projectId, { resource: 'volumes', volumes: 1, gigabytes: size, perVolumeSize: size, volumeType: type });
      const placement = source ? placeFromSource(source, type) : placeVolume(this.deps.config, type.extraSpecs);
      if (placement.ok) await checkExtStorageSpecs(trx, this.deps.config, placement.backend, type.extraSpecs);
      // `group_id` (3.13; Cinder reads it at any version): the group must take this type, on this backend.
      const group =
        input.group_id === undefined || input.group_id === null
          ? undefined
          : await groupForNewVolume(trx, ctx, input.group_id, {
              typeId: type.id,
              typeName: type.name,
              typeAsked: askedType !== undefined,
              fromSource: Boolean(source),
              backend: placement.backend,
            });
      const row: DbVolumeRow = {
        id,
        project_id: ctx.projectId,
        user_id: ctx.userId,
        display_name: input.name ?? input.display_name ?? null,
        display_description: input.description ?? input.display_description ?? null,
        size,
        status: placement.ok ? VolumeStatus.creating : VolumeStatus.error,
        attach_status: AttachStatus.detached,
        availability_zone: az,
        volume_type_id: type.id,
        ...sourceColumns(source),
        multiattach: placement.multiattach,
        host: placement.host,
        backend: placement.backend,
        provider_location: null,
        metadata: input.metadata ?? {},
        admin_metadata: {},
        created_at: now,
        updated_at: null,
        launched_at: null,
        ...(group ? { group_id: group.id } : {}),
      };
      // A volume from an image is bootable and records the image (Cinder's `volume_image_metadata`).
      const imageMetadata = image ? volumeImageMetadata(image) : undefined;
      if (image) row.bootable = true;
      await volumesDb.insert(trx, imageMetadata ? { ...row, image_metadata: imageMetadata } : row);
      // The reply has no `volume_image_metadata`: Cinder copies it after the create (its 202 has none, and
      // Tempest's create schema refuses the key); show and list give it from here on.
      created = { ...row, volume_type_name: type.name, attachments: [] };
      if (placement.ok) {
        await enqueue(
          trx,
          this.deps.config,
          ctx,
          TaskKind.volumeCreate,
          { type: 'volume', id, backend: placement.backend },
          { size, ...sourcePayload(source), ...imagePayload(image), ...(group ? { group_id: group.id } : {}) },
        );
      } else {
        await recordMessage(trx, {
          projectId: ctx.projectId,
          requestId: ctx.requestId,
          resourceType: 'VOLUME',
          resourceId: id,
          event: MessageEvent.scheduleAllocateVolume,
          detail: MessageDetail.noBackendAvailable,
        });
      }
    });
    if (!outer) this.deps.notifier.tasksWritten();
    // The row as inserted (Cinder answers `creating`); no re-read of what this transaction just wrote.
    return created!;
  }

  private async createFromBackup(ctx: RequestContext, input: CreateVolumeInput, backupId: string, outer?: Tx): Promise<DbVolumeView> {
    const asked = input.size === undefined || input.size === null ? undefined : Number(input.size);
    if (asked !== undefined && (!Number.isInteger(asked) || asked < 1)) {
      throw invalidInput(`Volume size '${input.size}' must be an integer and greater than 0`);
    }
    const id = await this.backups.createVolume(
      ctx,
      backupId,
      {
        size: asked,
        name: input.name ?? input.display_name ?? null,
        description: input.description ?? input.display_description ?? null,
        volume_type: input.volume_type,
        metadata: input.metadata,
      },
      outer,
    );
    return this.get(ctx, id, outer);
  }

  async update(ctx: RequestContext, id: string, input: UpdateVolumeInput): Promise<DbVolumeView> {
    requireWriter(ctx, 'volume:update');
    const fields: Partial<DbVolumeRow> = {};
    const name = input.name !== undefined ? input.name : input.display_name;
    const description = input.description !== undefined ? input.description : input.display_description;
    for (const [field, value] of [
      ['name', name],
      ['description', description],
    ] as const) {
      if (typeof value === 'string' && value.length > 255) {
        throw invalidInput(`${field} has ${value.length} characters, more than 255.`);
      }
    }
    if (name !== undefined) fields.display_name = name;
    if (description !== undefined) fields.display_description = description;
    if (input.metadata !== undefined && input.metadata !== null) fields.metadata = input.metadata;
    await this.get(ctx, id);
    await volumesDb.update(this.db, id, fields);
    return this.get(ctx, id);
  }

  /**
   * Moves the volume to `deleting` and queues its removal. `force` (admin,
   * 3.23) skips the status check but never deletes an attached volume.
   */
  async delete(ctx: RequestContext, id: string, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    requireWriter(ctx, 'volume:delete');
    if (opts.force) requireAdmin(ctx, 'volume:force_delete');
    const transition: Transition<VolumeStatus> = opts.force ? VolumeTransitions.forceDelete : VolumeTransitions.delete;
    await this.db.transaction(async (trx) => {
      const current = await volumesDb.lock(trx, id, scopeOf(ctx, true));
      if (!current) throw notFound(`Volume ${id} could not be found.`);
      // A group's volume goes only with its group (`delete` with delete-volumes), as Cinder's `group_id: None` condition.
      if (
        current.attach_status === AttachStatus.attached ||
        current.group_id ||
        !transition.from.includes(current.status as VolumeStatus)
      ) {
        throw invalidVolume(VOLUME_DELETE_REFUSAL);
      }
      // Snapshots refuse the delete, or go with it (`cascade`): services/snapshots/cascade.ts.
      const cascaded = await snapshotsForVolumeDelete(trx, current, { cascade: Boolean(opts.cascade), force: Boolean(opts.force) });
      // A lost race is Cinder's 400 in the generic wording.
      await moveOrRefuse(trx, volumeStatus, current.id, transition, () =>
        invalidVolume(`Volume status must be ${transition.from.join(' or ')}, but current status is: ${current.status}.`),
      );
      await enqueue(
        trx,
        this.deps.config,
        ctx,
        TaskKind.volumeDelete,
        { type: 'volume', id, backend: current.backend },
        { provider_location: current.provider_location, ...cascaded },
      );
    });
    this.deps.notifier.tasksWritten();
  }

  /** A page of volumes: whole views for `/volumes/detail`, ids and names for `/volumes`. */
  async list(
    ctx: RequestContext,
    q: RawQuery,
    detail: true,
    rules: VolumeListRules,
  ): Promise<{ items: volumesDb.ListedVolume[]; paging: Paging; count?: number }>;
  async list(
    ctx: RequestContext,
    q: RawQuery,
    detail: false,
    rules: VolumeListRules,
  ): Promise<{ items: Array<Pick<DbVolumeView, 'id' | 'display_name'>>; paging: Paging; count?: number }>;
  async list(
    ctx: RequestContext,
    q: RawQuery,
    detail: boolean,
    rules: VolumeListRules,
  ): Promise<{ items: Array<Pick<DbVolumeView, 'id' | 'display_name'>>; paging: Paging; count?: number }> {
    const allTenants = ctx.isAdmin && q.all_tenants !== undefined && q.all_tenants !== '0' && q.all_tenants !== 'false';
    const scope = scopeOf(ctx, allTenants);
    const paging = parsePaging(q, VOLUME_SORT_COLUMNS, rules);
    const filters = volumeFilters(ctx, q, rules);
    const markerMissing = () => notFound(`Volume ${paging.marker} could not be found.`);
    if (paging.marker !== undefined && !isUuidLike(paging.marker)) throw markerMissing();
    const page = { scope, filters, sort: paging.sort, limit: paging.limit, offset: paging.offset, markerId: paging.marker };
    const items = detail
      ? await volumesDb.listShown(this.db, page, SHOWN_ATTACHMENT_STATUSES)
      : await volumesDb.listSummaries(this.db, page);
    // A marker the caller cannot see gives an empty page (db/keyset.ts); only then is it worth a look.
    if (paging.marker !== undefined && items.length === 0 && !(await volumesDb.find(this.db, paging.marker, scope))) throw markerMissing();
    const count = paging.withCount ? await volumesDb.count(this.db, scope, filters) : undefined;
    return { items, paging, count };
  }

  /** `metadata`: the summary names the volumes' metadata too (3.36). */
  async summary(ctx: RequestContext, allTenants: boolean, opts: { metadata: boolean }) {
    const scope = scopeOf(ctx, allTenants);
    const { count, size } = await volumesDb.summary(this.db, scope);
    const out: Record<string, unknown> = { total_count: count, total_size: size };
    if (opts.metadata) out.metadata = await volumesDb.metadataOf(this.db, scope);
    return out;
  }

  // --- metadata (`/volumes/{id}/metadata`) ---------------------------------

  async getMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    return (await this.get(ctx, id)).metadata;
  }

  /** POST merges, PUT (replace=true) replaces; both answer with the whole set. */
  async setMetadata(ctx: RequestContext, id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    requireWriter(ctx, 'volume:update_volume_metadata');
    return this.db.transaction(async (trx) => {
      const v = await volumesDb.lock(trx, id, scopeOf(ctx, true));
      if (!v) throw notFound(`Volume ${id} could not be found.`);
      if (v.status === VolumeStatus.maintenance)
        throw invalidVolume('The volume metadata cannot be updated when the volume is in maintenance mode.');
      const next = nextMetadata(v.metadata, metadata, replace);
      await volumesDb.update(trx, id, { metadata: next });
      return next;
    });
  }

  async getMetadataItem(ctx: RequestContext, id: string, key: string): Promise<Record<string, string>> {
    return metadataItem(await this.getMetadata(ctx, id), key);
  }

  async setMetadataItem(ctx: RequestContext, id: string, key: string, meta: Record<string, string>): Promise<Record<string, string>> {
    checkItemBody(key, meta);
    await this.setMetadata(ctx, id, meta, false);
    return meta;
  }

  async deleteMetadataItem(ctx: RequestContext, id: string, key: string): Promise<void> {
    requireWriter(ctx, 'volume:delete_volume_metadata');
    await this.db.transaction(async (trx) => {
      const v = await volumesDb.lock(trx, id, scopeOf(ctx, true));
      if (!v) throw notFound(`Volume ${id} could not be found.`);
      await volumesDb.update(trx, id, { metadata: withoutItem(v.metadata, key) });
    });
  }
}
