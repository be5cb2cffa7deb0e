/** The state machine's one mechanism: a compare-and-set move, allowed only from one of `from`. */

export interface Transition<S extends string> {
  readonly name: string;
  readonly from: readonly S[];
  readonly to: S;
}

/**
 * `os-reset_status` (admin) and its kin: the one sanctioned jump outside the
 * tables, from the statuses the caller names (the row's own, or any) to `to`.
 */
export function resetTransition<S extends string>(from: readonly S[], to: S): Transition<S> {
  return { name: 'reset-status', from, to };
}
