/**
 * Volume and attachment statuses (`cinder/objects/fields.py`) and their moves:
 * create, delete, extend, attach/detach, transfer, retype, reset, swap,
 * reconcile and upload-to-image.
 */
import { TaskKind } from './task';
import type { Transition } from './transition';

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

const V = VolumeStatus;

/** Statuses a volume may be deleted from (Cinder `volume/api.py:delete`). */
export const VOLUME_DELETABLE: readonly VolumeStatus[] = [V.available, V.error, V.errorRestoring, V.errorExtending, V.errorManaging];

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
    from: [
      V.available,
      V.error,
      V.errorRestoring,
      V.errorExtending,
      V.errorManaging,
      V.errorDeleting,
      V.creating,
      V.deleting,
      V.maintenance,
      V.extending,
      V.downloading,
      V.uploading,
      V.retyping,
      V.reverting,
      V.reserved,
      V.attaching,
    ],
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
  /** Cinder's `volume_detached` once no attachment is left (a force-detach, a detach of nothing): an errored volume is available. */
  detachedFromError: { name: 'volume-detached', from: [V.error], to: V.available },
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

/**
 * Back to what the attachments say (`statusFromAttachments`, a target known
 * only at the time): after an attachment changed, but only from a status the
 * attachments drive; and when an extend or an upload-to-image ends.
 */
export const VolumeSettleTransitions = {
  attachmentsChanged: (to: VolumeStatus): Transition<VolumeStatus> => ({ name: 'settle', from: ATTACHMENT_DRIVEN, to }),
  extendDone: (to: VolumeStatus): Transition<VolumeStatus> => ({ name: 'extend-done', from: [V.extending], to }),
  uploadEnded: (to: VolumeStatus): Transition<VolumeStatus> => ({ name: 'upload-image-ended', from: [V.uploading], to }),
};

/** Attachment rows a volume's `attachments[]` shows: only attached ones, as Cinder (`_get_attachments`). */
export const SHOWN_ATTACHMENT_STATUSES: readonly AttachStatus[] = [AttachStatus.attached];

/** Attachment moves (attach_status). */
export const AttachmentTransitions = {
  connect: {
    name: 'connect',
    from: [AttachStatus.reserved, AttachStatus.attaching, AttachStatus.errorAttaching],
    to: AttachStatus.attaching,
  },
  complete: { name: 'complete', from: [AttachStatus.attaching, AttachStatus.attached, AttachStatus.reserved], to: AttachStatus.attached },
  detach: {
    name: 'detach',
    from: [AttachStatus.attaching, AttachStatus.attached, AttachStatus.errorDetaching, AttachStatus.errorAttaching],
    to: AttachStatus.detaching,
  },
  /** `os-force_detach`: also one already detaching (a disconnect that never ended). */
  forceDetach: {
    name: 'force-detach',
    from: [AttachStatus.attaching, AttachStatus.attached, AttachStatus.errorDetaching, AttachStatus.errorAttaching, AttachStatus.detaching],
    to: AttachStatus.detaching,
  },
  connectFailed: { name: 'connect-failed', from: [AttachStatus.attaching], to: AttachStatus.errorAttaching },
  detachFailed: { name: 'detach-failed', from: [AttachStatus.detaching], to: AttachStatus.errorDetaching },
} satisfies Record<string, Transition<AttachStatus>>;

/** Status an exhausted task leaves its volume in, keyed by task kind. */
export const VOLUME_FAILURE_BY_TASK: Readonly<Record<string, Transition<VolumeStatus>>> = {
  [TaskKind.volumeCreate]: VolumeTransitions.createFailed,
  [TaskKind.volumeDelete]: VolumeTransitions.deleteFailed,
  [TaskKind.volumeExtend]: VolumeTransitions.extendFailed,
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
  /** The new volume's attachment, once the data is copied. */
  done: { name: 'swap-done', from: [AttachStatus.attaching], to: AttachStatus.attached },
} satisfies Record<string, Transition<AttachStatus>>;

/** Volume statuses in which the backend must hold the volume's data (`cairn-manage reconcile` checks them). */
export const VOLUME_DATA_EXPECTED: readonly VolumeStatus[] = ALL_VOLUME_STATUSES.filter(
  (s) => !([V.creating, V.downloading, V.deleting, V.error, V.errorDeleting] as readonly VolumeStatus[]).includes(s),
);

/** `cairn-manage reconcile --repair`: a volume whose data is gone from its backend is an error. */
export const VolumeDataMissing: Transition<VolumeStatus> = { name: 'data-missing', from: VOLUME_DATA_EXPECTED, to: V.error };

/** `os-volume_upload_image`: available (in-use too with `force`, where allowed) → uploading → back. */
export const VolumeUploadTransitions = {
  begin: { name: 'upload-image', from: [V.available], to: V.uploading },
  beginForced: { name: 'upload-image', from: [V.available, V.inUse], to: V.uploading },
} satisfies Record<string, Transition<VolumeStatus>>;
