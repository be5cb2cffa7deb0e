/**
 * The storage driver contract. Every operation is idempotent: running it
 * again after a crash at any point gives the same end state (a finished
 * create returns the same location; removing a missing volume succeeds).
 * Sizes are GiB here and converted at the driver's own edge.
 * Drivers know nothing of the database; they throw `DriverError`.
 */
export interface VolumeRef {
  readonly id: string;
  /** Where the data is now, as a previous operation reported it (undefined before create). */
  readonly location?: string | null;
}

export interface DriverVolumeInfo {
  readonly location: string;
  readonly exists: boolean;
  readonly sizeBytes?: number;
  readonly allocatedBytes?: number;
}

export interface Driver {
  readonly name: string;
  /** Creates an empty volume of `sizeGib`; returns its location. */
  create(vol: VolumeRef, sizeGib: number): Promise<string>;
  /** Removes the volume's data; a missing volume is success. */
  remove(vol: VolumeRef): Promise<void>;
  /** What is on disk for a volume (for `cairn-manage volume info`). */
  inspect(vol: VolumeRef): Promise<DriverVolumeInfo>;
}
