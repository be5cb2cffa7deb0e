/** Images (cairn's own Glance subset). */
import type { Transition } from './transition';

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
/**
 * Data arrives (`PUT /v2/images/{id}/file`, an upload-to-image): queued → saving → active; a failure kills it.
 * An image already saving takes a second upload: the later of the two to end finds it moved (409).
 */
export const ImageTransitions = {
  beginUpload: { name: 'upload', from: [IS.queued, IS.saving], to: IS.saving },
  uploadDone: { name: 'upload-done', from: [IS.saving], to: IS.active },
  uploadFailed: { name: 'upload-failed', from: [IS.saving, IS.queued], to: IS.killed },
  /** A limit refused the data (Glance's `_restore`): the image is queued again, without data. */
  uploadRefused: { name: 'upload-refused', from: [IS.saving], to: IS.queued },
  /** `POST …/actions/deactivate` and `reactivate` (Glance's `Image.deactivate`/`reactivate`). */
  deactivate: { name: 'deactivate', from: [IS.active], to: IS.deactivated },
  reactivate: { name: 'reactivate', from: [IS.deactivated], to: IS.active },
} satisfies Record<string, Transition<ImageStatus>>;
