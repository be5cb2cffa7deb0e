/**
 * The storage driver contract. Every operation is idempotent: running it
 * again after a crash at any point gives the same end state (a finished
 * create returns the same location; removing a missing volume succeeds;
 * attaching an attached volume returns the same connection).
 * Sizes are GiB here and converted at the driver's own edge.
 * Drivers know nothing of the database; they throw `DriverError`.
 */
export interface VolumeRef {
  readonly id: string;
  /** The volume's display name, where a driver passes it on (ExtStorage `VOL_CNAME`). */
  readonly name?: string | null;
  /** Where the data is now, as a previous operation reported it (undefined before create). */
  readonly location?: string | null;
  readonly sizeGib?: number;
  /** Driver parameters from the volume type's extra specs (e.g. `extstorage:*`). */
  readonly params?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
  /** A multi-attach volume never moves under one server's folder. */
  readonly multiattach?: boolean;
}

export interface SnapshotRef {
  readonly id: string;
  readonly location?: string | null;
  /** Driver parameters of the snapshot's volume (ExtStorage: the provider and `EXTP_*` its scripts get). */
  readonly params?: Readonly<Record<string, string>>;
}

/** Where data for a new volume comes from. */
export type CopySource =
  | { readonly kind: 'volume'; readonly volume: VolumeRef }
  | { readonly kind: 'snapshot'; readonly snapshot: SnapshotRef }
  | { readonly kind: 'file'; readonly path: string };

export interface AttachTarget {
  /** The server (instance) the volume is attached to. */
  readonly serverId: string;
  readonly mode: 'rw' | 'ro';
  /** Other servers the volume stays attached to (multi-attach). */
  readonly otherServers?: readonly string[];
}

export interface AttachResult {
  /** Where the data lives after the attach (it may have moved). */
  readonly location: string;
  /** What a host uses to reach the data: Cinder's connection_info `data`. */
  readonly devicePath: string;
  readonly driverVolumeType: string;
  /** Userspace access URIs, `<hypervisor>:<uri>` (ExtStorage `attach` lines after the first). */
  readonly uris?: readonly string[];
}

export interface DriverVolumeInfo {
  readonly location: string;
  readonly exists: boolean;
  readonly sizeBytes?: number;
  readonly allocatedBytes?: number;
}

/** One provider or storage area as a worker sees it (`gnt-storage diagnose`). */
export interface DriverDiagnosis {
  readonly name: string;
  readonly valid: boolean;
  readonly reason?: string;
  readonly checksum?: string;
  readonly parameters?: ReadonlyArray<{ name: string; description: string }>;
}

/** Everything under a backend's storage directory, for `cairn-manage reconcile`. Paths are absolute. */
export interface DriverScan {
  readonly root: string;
  /** Regular files (and anything that is not a directory), with their apparent size. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number }>;
  /** Directories below the root, with how many entries each holds. */
  readonly dirs: ReadonlyArray<{ readonly path: string; readonly entries: number }>;
}

/**
 * One attempt of a task, as the driver sees it (fencing). A task's lease
 * may run out while its attempt still runs (a paused worker, a database
 * outage); the task is then offered again and a new attempt claims it.
 * The old one must stop and write nothing more: `signal` aborts once the
 * attempt is known to have lost its task, each attempt writes its own
 * temporary files (named with `token`), and the step that makes work
 * visible (a copy's final rename) runs `fenced`: only while the attempt
 * still holds its task, which nobody can take meanwhile.
 */
export interface AttemptScope {
  readonly signal: AbortSignal;
  /** Unique per attempt (safe in a file name). */
  readonly token: string;
  /** Runs `step` while the attempt holds its task (locked); rejects with AttemptLost, without running it, if it does not. */
  fenced<T>(step: () => Promise<T>): Promise<T>;
}

/** Thrown by a driver operation stopped because its attempt lost its task: nothing is to be recorded. */
export class AttemptLost extends Error {
  constructor(message = 'the attempt lost its task (its lease ran out and the task was offered again)') {
    super(message);
    this.name = 'AttemptLost';
  }
}

export interface Driver {
  readonly name: string;
  /** This driver for one attempt of a task: its operations stop on `scope.signal` and commit through `scope.fenced`. */
  forAttempt?(scope: AttemptScope): Driver;
  /** Creates an empty volume of `sizeGib`; returns its location. */
  create(vol: VolumeRef, sizeGib: number): Promise<string>;
  /** Removes the volume's data; a missing volume is success. */
  remove(vol: VolumeRef): Promise<void>;
  /** What is on disk for a volume (for `cairn-manage volume info`). */
  inspect(vol: VolumeRef): Promise<DriverVolumeInfo>;
  /** Grows the volume to `newSizeGib` (never shrinks). */
  grow?(vol: VolumeRef, newSizeGib: number): Promise<void>;
  /** Makes the volume reachable for a server; returns its new location and device path. */
  attach?(vol: VolumeRef, target: AttachTarget): Promise<AttachResult>;
  /** Undoes attach for one server; returns the location afterwards. */
  detach?(vol: VolumeRef, target: AttachTarget): Promise<string>;
  /** Creates a new volume filled from `source`; returns its location. */
  copyFrom?(vol: VolumeRef, sizeGib: number, source: CopySource): Promise<string>;
  /** Takes a point-in-time copy; returns the snapshot's location. */
  snapshot?(vol: VolumeRef, snap: SnapshotRef): Promise<string>;
  /** Removes a snapshot's data; a missing snapshot is success. */
  removeSnapshot?(snap: SnapshotRef): Promise<void>;
  /** Rewrites the volume's data with the snapshot's (same size); the volume stays where it is. */
  revertToSnapshot?(vol: VolumeRef, snap: SnapshotRef): Promise<void>;
  /** What this driver offers on this host. */
  diagnose?(): Promise<DriverDiagnosis[]>;
  /** Removes a deleted server's folder (Ganeti's instance dir); fails while it still holds disk data; a missing one is success. */
  removeServer?(serverId: string): Promise<void>;
  /** Rewrites an existing volume's data with the source's, in place; the volume keeps its size (at least the source's). */
  copyOnto?(vol: VolumeRef, source: CopySource): Promise<void>;
  /** Lists what the storage directory holds (reconcile); the orphans folder is left out. */
  scan?(): Promise<DriverScan>;
  /** Moves a file or folder nobody knows into the orphans folder, never deleting it; returns where it went (undefined: it is gone). */
  quarantine?(path: string): Promise<string | undefined>;
  /**
   * Lends a volume's or snapshot's data as a path to read (the backup
   * service reads it chunk by chunk) for as long as `use` runs.
   */
  readData?<T>(source: CopySource, use: (path: string) => Promise<T>): Promise<T>;
  /**
   * Rewrites the whole data of an existing volume: `fill(path, fresh)`
   * writes it at `path`; when `fresh`, the file is new and empty (holes
   * read as zeros, so zero blocks need not be written). The volume keeps
   * its place and at least its size. Returns its location afterwards.
   */
  writeData?(vol: VolumeRef, fill: (path: string, fresh: boolean) => Promise<void>): Promise<string>;
}

/** Every method of the contract, optional ones included: a wrapper typed with it fails to compile when it misses one. */
export type EveryMethod = { [K in keyof Required<Driver>]: Driver[K] };
