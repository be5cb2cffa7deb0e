/** The state machine's one mechanism: a compare-and-set move, allowed only from one of `from`. */

/**
 * The statuses Cinder's snapshots, groups and group snapshots share
 * (`cinder/objects/fields.py`), in its order; each resource adds its own.
 */
export const CommonStatus = {
  error: 'error',
  available: 'available',
  creating: 'creating',
  deleting: 'deleting',
  deleted: 'deleted',
  updating: 'updating',
  errorDeleting: 'error_deleting',
} as const;

export interface Transition<S extends string> {
  readonly name: string;
  readonly from: readonly S[];
  readonly to: S;
}

/**
 * `os-reset_status` (admin) and its kin: the one sanctioned jump outside the
 * tables, from the statuses the caller names (the row's own, or any) to `to`.
 */
/**
 * The create and delete moves snapshots, backups and group snapshots make
 * alike: creating → available, or error; available or error → deleting → gone,
 * or error_deleting.
 */
export function createAndDelete<S extends string>(s: { creating: S; available: S; error: S; deleting: S; errorDeleting: S }) {
  return {
    createDone: { name: 'create-done', from: [s.creating], to: s.available },
    createFailed: { name: 'create-failed', from: [s.creating], to: s.error },
    delete: { name: 'delete', from: [s.available, s.error], to: s.deleting },
    deleteFailed: { name: 'delete-failed', from: [s.deleting], to: s.errorDeleting },
  } satisfies Record<string, Transition<S>>;
}

export function resetTransition<S extends string>(from: readonly S[], to: S): Transition<S> {
  return { name: 'reset-status', from, to };
}
