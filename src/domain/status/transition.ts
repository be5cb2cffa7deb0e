/** The state machine's one mechanism: a compare-and-set move, allowed only from one of `from`. */

export interface Transition<S extends string> {
  readonly name: string;
  readonly from: readonly S[];
  readonly to: S;
}
