/**
 * Every status string cairn stores or shows, and every transition between
 * them. Services move a resource only through a `Transition` from here
 * (compare-and-set on `from`), so this module — with its backup and group
 * parts, `backupStatus.ts` and `groupStatus.ts` — is the whole state machine.
 * Strings are Cinder's (`cinder/objects/fields.py`).
 */

export const VolumeStatus = {
  creating: 'creating',
  available: 'available',
  deleting: 'deleting',
  error: 'error',
  errorDeleting: 'error_deleting',
  errorExtending: 'error_extending',
  errorRestoring: 'error_restoring',
  errorManaging: 'error_managing',
  extending: 'extending',
  reserved: 'reserved',
  attaching: 'attaching',
  inUse: 'in-use',
  detaching: 'detaching',
  maintenance: 'maintenance',
  downloading: 'downloading',
  uploading: 'uploading',
  retyping: 'retyping',
  reverting: 'reverting',
  awaitingTransfer: 'awaiting-transfer',
  backingUp: 'backing-up',
  restoringBackup: 'restoring-backup',
} as const;
export type VolumeStatus = (typeof VolumeStatus)[keyof typeof VolumeStatus];
export const ALL_VOLUME_STATUSES: readonly VolumeStatus[] = Object.values(VolumeStatus);

export const AttachStatus = {
  detached: 'detached',
  reserved: 'reserved',
  attaching: 'attaching',
  attached: 'attached',
  detaching: 'detaching',
  errorAttaching: 'error_attaching',
  errorDetaching: 'error_detaching',
} as const;
export type AttachStatus = (typeof AttachStatus)[keyof typeof AttachStatus];

export const TaskState = {
  pending: 'pending',
  running: 'running',
  done: 'done',
  failed: 'failed',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** A compare-and-set move: allowed only from one of `from`. */
export interface Transition<S extends string> {
  readonly name: string;
  readonly from: readonly S[];
  readonly to: S;
}

const V = VolumeStatus;

/** Statuses a volume may be deleted from (Cinder `volume/api.py:delete`). */
export const VOLUME_DELETABLE: readonly VolumeStatus[] = [
  V.available, V.error, V.errorRestoring, V.errorExtending, V.errorManaging,
];

export const VolumeTransitions = {
  /** The worker finished creating the volume. */
  createDone: { name: 'create-done', from: [V.creating, V.downloading], to: V.available },
  createFailed: { name: 'create-failed', from: [V.creating, V.downloading], to: V.error },
  delete: { name: 'delete', from: VOLUME_DELETABLE, to: V.deleting },
  /**
   * `force` deletes skip the status check but never touch an attached volume
   * (Cinder's only condition is attach_status != attached): so a volume still
   * reserved or attaching (its attachments go with it) may be force-deleted.
   */
  forceDelete: {
    name: 'force-delete',
    from: [V.available, V.error, V.errorRestoring, V.errorExtending, V.errorManaging, V.errorDeleting,
      V.creating, V.deleting, V.maintenance, V.extending, V.downloading, V.uploading, V.retyping, V.reverting,
      V.reserved, V.attaching],
    to: V.deleting,
  },
  deleteFailed: { name: 'delete-failed', from: [V.deleting], to: V.errorDeleting },
  /** attachment-create without a connector (`cinder/volume/api.py:_attachment_reserve`). */
  reserve: { name: 'reserve', from: [V.available, V.downloading], to: V.reserved },
  reserveMultiattach: { name: 'reserve', from: [V.available, V.inUse, V.downloading], to: V.reserved },
  /** A connector arrives (attachment update, os-attach): the backend is asked to connect. */
  connect: { name: 'connect', from: [V.reserved, V.attaching, V.inUse, V.available], to: V.attaching },
  /** Legacy `os-reserve`: available (or in use, for multi-attach) → attaching. */
  legacyReserve: { name: 'os-reserve', from: [V.available], to: V.attaching },
  legacyReserveMultiattach: { name: 'os-reserve', from: [V.available, V.inUse], to: V.attaching },
  beginDetaching: { name: 'os-begin_detaching', from: [V.inUse], to: V.detaching },
  rollDetaching: { name: 'os-roll_detaching', from: [V.detaching], to: V.inUse },
  /** os-extend: available (in-use from 3.42) → extending → back (see statusFromAttachments). */
  extend: { name: 'os-extend', from: [V.available], to: V.extending },
  extendAttached: { name: 'os-extend', from: [V.available, V.inUse], to: V.extending },
  extendFailed: { name: 'extend-failed', from: [V.extending], to: V.errorExtending },
  /** Disconnecting one attachment. */
  detach: { name: 'detach', from: [V.inUse, V.detaching, V.attaching, V.reserved], to: V.detaching },
} satisfies Record<string, Transition<VolumeStatus>>;

/** Statuses that only describe attachments, so recomputing them from the attachment rows is safe. */
export const ATTACHMENT_DRIVEN: readonly VolumeStatus[] = [V.available, V.reserved, V.attaching, V.inUse, V.detaching];

/**
 * The volume status its attachments imply once nothing is in flight
 * (after complete, detach, unreserve or a failed connect).
 */
export function statusFromAttachments(attachments: readonly string[]): { status: VolumeStatus; attachStatus: AttachStatus } {
  const has = (s: AttachStatus) => attachments.includes(s);
  if (has(AttachStatus.detaching)) return { status: V.detaching, attachStatus: AttachStatus.attached };
  if (has(AttachStatus.attached) || has(AttachStatus.errorDetaching)) return { status: V.inUse, attachStatus: AttachStatus.attached };
  if (has(AttachStatus.attaching)) return { status: V.attaching, attachStatus: AttachStatus.attaching };
  if (has(AttachStatus.reserved)) return { status: V.reserved, attachStatus: AttachStatus.reserved };
  return { status: V.available, attachStatus: AttachStatus.detached };
}

/** Attachment rows a volume's `attachments[]` shows: only attached ones, as Cinder (`_get_attachments`). */
export const SHOWN_ATTACHMENT_STATUSES: readonly AttachStatus[] = [AttachStatus.attached];

/** Attachment moves (attach_status). */
export const AttachmentTransitions = {
  connect: { name: 'connect', from: [AttachStatus.reserved, AttachStatus.attaching, AttachStatus.errorAttaching], to: AttachStatus.attaching },
  complete: { name: 'complete', from: [AttachStatus.attaching, AttachStatus.attached, AttachStatus.reserved], to: AttachStatus.attached },
  detach: { name: 'detach', from: [AttachStatus.attaching, AttachStatus.attached, AttachStatus.errorDetaching, AttachStatus.errorAttaching], to: AttachStatus.detaching },
  connectFailed: { name: 'connect-failed', from: [AttachStatus.attaching], to: AttachStatus.errorAttaching },
  detachFailed: { name: 'detach-failed', from: [AttachStatus.detaching], to: AttachStatus.errorDetaching },
} satisfies Record<string, Transition<AttachStatus>>;

/** Status an exhausted task leaves its volume in, keyed by task kind. */
export const VOLUME_FAILURE_BY_TASK: Readonly<Record<string, Transition<VolumeStatus>>> = {
  'volume.create': VolumeTransitions.createFailed,
  'volume.delete': VolumeTransitions.deleteFailed,
  'volume.extend': VolumeTransitions.extendFailed,
};

/**
 * Volume transfers (`cinder/transfer/api.py`): only an available volume is
 * offered; cancelling or accepting the transfer makes it available again (the
 * accept in the new owner's project).
 */
export const VolumeTransferTransitions = {
  create: { name: 'transfer-create', from: [V.available], to: V.awaitingTransfer },
  cancel: { name: 'transfer-delete', from: [V.awaitingTransfer], to: V.available },
  accept: { name: 'transfer-accept', from: [V.awaitingTransfer], to: V.available },
} satisfies Record<string, Transition<VolumeStatus>>;

/** Statuses a volume may be retyped from (Cinder `volume/api.py:retype`). */
export const VOLUME_RETYPABLE: readonly VolumeStatus[] = [V.available, V.inUse];

/**
 * `os-reset_status` (admin) may set any known status: the one sanctioned
 * jump outside the transitions above. Returns undefined for an unknown one.
 */
export function resetTarget(status: string): VolumeStatus | undefined {
  return ALL_VOLUME_STATUSES.find((s) => s === status);
}
export const ALL_ATTACH_STATUSES: readonly AttachStatus[] = Object.values(AttachStatus);

/** Human text for the 400 Cinder answers when a delete is refused. */
export const VOLUME_DELETE_REFUSAL =
  'Volume status must be available or error or error_restoring or error_extending or error_managing ' +
  'and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, ' +
  'or be disassociated from snapshots after volume transfer.';

// --- snapshots -------------------------------------------------------------

/** Snapshot statuses (`cinder/objects/fields.py:SnapshotStatus`). */
export const SnapshotStatus = {
  error: 'error',
  available: 'available',
  creating: 'creating',
  deleting: 'deleting',
  deleted: 'deleted',
  updating: 'updating',
  errorDeleting: 'error_deleting',
  unmanaging: 'unmanaging',
  backingUp: 'backing-up',
  restoring: 'restoring',
} as const;
export type SnapshotStatus = (typeof SnapshotStatus)[keyof typeof SnapshotStatus];
export const ALL_SNAPSHOT_STATUSES: readonly SnapshotStatus[] = Object.values(SnapshotStatus);

const S = SnapshotStatus;

/** Statuses a snapshot may be deleted from, and that a cascade delete of its volume accepts (`volume/api.py`). */
export const SNAPSHOT_DELETABLE: readonly SnapshotStatus[] = [S.available, S.error];

/** Volume statuses a snapshot may be taken of: `available`, plus `in-use` with `force` (or always from 3.66). */
export const SNAPSHOT_SOURCE: readonly VolumeStatus[] = [V.available];
export const SNAPSHOT_SOURCE_IN_USE: readonly VolumeStatus[] = [V.available, V.inUse];
/** What a new volume may be made from (`flows/api/create_volume.py`: SNAPSHOT_/SRC_VOL_PROCEED_STATUS). */
export const CLONE_SOURCE: readonly VolumeStatus[] = [V.available, V.inUse];
export const SNAPSHOT_PROCEED: readonly SnapshotStatus[] = [S.available];

export const SnapshotTransitions = {
  createDone: { name: 'create-done', from: [S.creating], to: S.available },
  createFailed: { name: 'create-failed', from: [S.creating], to: S.error },
  delete: { name: 'delete', from: SNAPSHOT_DELETABLE, to: S.deleting },
  /** `os-force_delete` (admin) and a forced cascade: Cinder sets no status condition at all. */
  forceDelete: { name: 'force-delete', from: ALL_SNAPSHOT_STATUSES, to: S.deleting },
  deleteFailed: { name: 'delete-failed', from: [S.deleting], to: S.errorDeleting },
  /** revert (3.40): the snapshot being restored from; back to available whatever the outcome. */
  restore: { name: 'revert', from: [S.available], to: S.restoring },
  restoreDone: { name: 'revert-done', from: [S.restoring], to: S.available },
} satisfies Record<string, Transition<SnapshotStatus>>;

/**
 * `os-update_snapshot_status` (Nova's assisted snapshots, where the hypervisor
 * does the work and reports back): only a snapshot being created or deleted
 * may be moved, and only to these (`contrib/snapshot_actions.py`'s status_map).
 */
export const SNAPSHOT_STATUS_UPDATES: Readonly<Partial<Record<SnapshotStatus, readonly SnapshotStatus[]>>> = {
  [S.creating]: [S.creating, S.available, S.error],
  [S.deleting]: [S.deleting, S.errorDeleting],
};

/** Status an exhausted snapshot task leaves its snapshot in, keyed by task kind. */
export const SNAPSHOT_FAILURE_BY_TASK: Readonly<Record<string, Transition<SnapshotStatus>>> = {
  'snapshot.create': SnapshotTransitions.createFailed,
  'snapshot.delete': SnapshotTransitions.deleteFailed,
  // A cascade delete's snapshots fail with their volume's task.
  'volume.delete': SnapshotTransitions.deleteFailed,
};

/** The volume side of a revert (`volume/api.py:revert_to_snapshot`, `manager.py`: a failure leaves `error`). */
export const VolumeRevertTransitions = {
  begin: { name: 'revert', from: [V.available], to: V.reverting },
  done: { name: 'revert-done', from: [V.reverting], to: V.available },
  failed: { name: 'revert-failed', from: [V.reverting], to: V.error },
} satisfies Record<string, Transition<VolumeStatus>>;

/** `os-reset_status` on a snapshot (admin): any known status. Undefined for an unknown one. */
export function snapshotResetTarget(status: string): SnapshotStatus | undefined {
  return ALL_SNAPSHOT_STATUSES.find((s) => s === status);
}

/** A snapshot create starts at 0% and ends at 100% (Cinder's `progress`). */
export const SNAPSHOT_PROGRESS = { start: '0%', done: '100%' } as const;

// --- servers (the Nova surface) ----------------------------------------------

/** Nova's vm_state (`nova/compute/vm_states.py`), the ones cairn's servers have. */
export const ServerVmState = {
  building: 'building',
  active: 'active',
  stopped: 'stopped',
  error: 'error',
  deleted: 'deleted',
} as const;
export type ServerVmState = (typeof ServerVmState)[keyof typeof ServerVmState];

/** Nova's task_state of an operation in flight (`nova/compute/task_states.py`); null when idle. */
export const ServerTaskState = {
  blockDeviceMapping: 'block_device_mapping',
  deleting: 'deleting',
} as const;
export type ServerTaskState = (typeof ServerTaskState)[keyof typeof ServerTaskState];

/** Nova's power_state numbers (`nova/compute/power_state.py`). */
export const ServerPowerState = { noState: 0, running: 1, shutdown: 4 } as const;

const SV = ServerVmState;

/** The API `status` of a vm_state (`nova/api/openstack/common.py:_STATE_MAP`). */
export function serverStatus(vmState: string): string {
  switch (vmState) {
    case SV.building: return 'BUILD';
    case SV.active: return 'ACTIVE';
    case SV.stopped: return 'SHUTOFF';
    case SV.error: return 'ERROR';
    case SV.deleted: return 'DELETED';
    default: return 'UNKNOWN';
  }
}

/** vm_state moves; each is a compare-and-set on `from` (and on an idle task_state, except build and delete). */
export const ServerTransitions = {
  buildDone: { name: 'build-done', from: [SV.building], to: SV.active },
  buildFailed: { name: 'build-failed', from: [SV.building], to: SV.error },
  /** `compute/api.py:stop`: from ACTIVE or ERROR; `start`: from STOPPED. */
  stop: { name: 'stop', from: [SV.active, SV.error], to: SV.stopped },
  start: { name: 'start', from: [SV.stopped], to: SV.active },
  deleteDone: { name: 'delete-done', from: [SV.building, SV.active, SV.stopped, SV.error], to: SV.deleted },
  deleteFailed: { name: 'delete-failed', from: [SV.building, SV.active, SV.stopped, SV.error], to: SV.error },
} satisfies Record<string, Transition<ServerVmState>>;

/** vm_states a volume may be attached to or detached from (`compute/api.py:attach_volume`, the states cairn has). */
export const SERVER_VOLUMES_CHANGEABLE: readonly ServerVmState[] = [SV.active, SV.stopped];
/** Root volumes change only while the server is stopped (CloudStack/EC2: detach, or attach to a root-less server). */
export const SERVER_ROOT_CHANGEABLE: readonly ServerVmState[] = [SV.stopped];
/** vm_states a server may be deleted from (Nova deletes from any; `deleted` is gone already). */
export const SERVER_DELETABLE: readonly ServerVmState[] = [SV.building, SV.active, SV.stopped, SV.error];

/** `os-hosts` service-status (Cinder's `contrib/hosts.py`): a view of the heartbeat, not a resource's status. */
export const HostServiceStatus = { available: 'available', unavailable: 'unavailable' } as const;

// --- volume swap and reconcile (the compute side's volume surface) -------------------

/**
 * Nova's swap (`PUT …/os-volume_attachments/{old}` with another volumeId):
 * the old volume's attachment goes `detaching` and the new volume is
 * reserved and `attaching` until one `volume.swap` task copies the data and
 * puts the new one in the old one's place; a failed swap gives the old
 * attachment back.
 */
export const SwapTransitions = {
  begin: { name: 'swap', from: [AttachStatus.attached], to: AttachStatus.detaching },
  failed: { name: 'swap-failed', from: [AttachStatus.detaching], to: AttachStatus.attached },
} satisfies Record<string, Transition<AttachStatus>>;

/** Volume statuses in which the backend must hold the volume's data (`cairn-manage reconcile` checks them). */
export const VOLUME_DATA_EXPECTED: readonly VolumeStatus[] = ALL_VOLUME_STATUSES.filter((s) =>
  !([V.creating, V.downloading, V.deleting, V.error, V.errorDeleting] as readonly VolumeStatus[]).includes(s));

/** `cairn-manage reconcile --repair`: a volume whose data is gone from its backend is an error. */
export const VolumeDataMissing: Transition<VolumeStatus> = { name: 'data-missing', from: VOLUME_DATA_EXPECTED, to: V.error };

// --- images (cairn's own Glance subset) ----------------------------------------

/** Glance's image statuses (`glance/domain/__init__.py`). */
export const ImageStatus = {
  queued: 'queued',
  saving: 'saving',
  active: 'active',
  killed: 'killed',
  deleted: 'deleted',
  pendingDelete: 'pending_delete',
  deactivated: 'deactivated',
  uploading: 'uploading',
  importing: 'importing',
} as const;
export type ImageStatus = (typeof ImageStatus)[keyof typeof ImageStatus];

const IS = ImageStatus;
/** Data arrives (`PUT /v2/images/{id}/file`, an upload-to-image): queued → saving → active; a failure kills it. */
export const ImageTransitions = {
  beginUpload: { name: 'upload', from: [IS.queued], to: IS.saving },
  uploadDone: { name: 'upload-done', from: [IS.saving], to: IS.active },
  uploadFailed: { name: 'upload-failed', from: [IS.saving, IS.queued], to: IS.killed },
  /** A limit refused the data (Glance's `_restore`): the image is queued again, without data. */
  uploadRefused: { name: 'upload-refused', from: [IS.saving], to: IS.queued },
} satisfies Record<string, Transition<ImageStatus>>;

/** `os-volume_upload_image`: available (in-use too with `force`, where allowed) → uploading → back. */
export const VolumeUploadTransitions = {
  begin: { name: 'upload-image', from: [V.available], to: V.uploading },
  beginForced: { name: 'upload-image', from: [V.available, V.inUse], to: V.uploading },
} satisfies Record<string, Transition<VolumeStatus>>;
