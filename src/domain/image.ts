/**
 * Images as cairn's volume and compute code sees them: Glance v2's image
 * record (`glance/api/v2/images.py`, image schema) whatever serves it,
 * cairn's own store or an external Glance. One interface, two
 * implementations (localStore.ts, glanceClient.ts); the volume create path
 * and the workers use only `ImageService`.
 */
import type { Readable } from 'node:stream';

export { ImageStatus } from './status';

export const ImageVisibility = { public: 'public', private: 'private', shared: 'shared', community: 'community' } as const;
export const IMAGE_VISIBILITIES: readonly string[] = Object.values(ImageVisibility);

/** Glance's `disk_formats` and `container_formats` defaults (`glance/common/config.py`). */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;

/** The disk formats a volume can be filled from, or written to, byte for byte (no qemu-img here). */
export const COPYABLE_DISK_FORMATS: readonly string[] = ['raw'];

export interface Image {
  readonly id: string;
  readonly name: string | null;
  readonly status: string;
  readonly visibility: string;
  readonly protected: boolean;
  readonly os_hidden: boolean;
  readonly owner: string | null;
  readonly disk_format: string | null;
  readonly container_format: string | null;
  /** Bytes; null until the data is there. */
  readonly size: number | null;
  readonly virtual_size: number | null;
  readonly checksum: string | null;
  readonly os_hash_algo: string | null;
  readonly os_hash_value: string | null;
  /** GiB. */
  readonly min_disk: number;
  /** MiB. */
  readonly min_ram: number;
  /** Glance's extra properties (shown at the top level of an image). */
  readonly properties: Readonly<Record<string, unknown>>;
  readonly tags: readonly string[];
  readonly created_at: Date;
  readonly updated_at: Date;
}

/** Who asks: the request's project, or a worker acting for a task's project. */
export interface ImageCaller {
  readonly projectId: string;
  readonly userId: string;
  readonly isAdmin: boolean;
}

/** What a new image may be given (Glance's `POST /v2/images` body, the writable attributes). */
export interface NewImage {
  readonly id?: string;
  readonly name?: string | null;
  readonly visibility?: string;
  readonly protected?: boolean;
  readonly os_hidden?: boolean;
  readonly disk_format?: string | null;
  readonly container_format?: string | null;
  readonly min_disk?: number;
  readonly min_ram?: number;
  readonly tags?: readonly string[];
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Admins may create an image for another project (`cairn-manage image import --project`). */
  readonly owner?: string | null;
}

/** A file holding an image's data, and how to give it back when the copy is done. */
export interface ImageFile {
  readonly path: string;
  release(): Promise<void>;
}

export interface ImageService {
  /** `local` (cairn's own store) or `glance` (an external endpoint). */
  readonly kind: 'local' | 'glance';
  /** The image if the caller may see it; undefined otherwise (Glance answers 404 either way). */
  get(caller: ImageCaller, id: string): Promise<Image | undefined>;
  /** The images of that exact name the caller sees (Cinder's and Nova's name lookups). */
  findByName(caller: ImageCaller, name: string): Promise<Image[]>;
  /** A new `queued` image owned by the caller's project. */
  create(caller: ImageCaller, fields: NewImage): Promise<Image>;
  /** Stores the data of a `queued` image; it becomes `active` with its size and checksums. */
  upload(caller: ImageCaller, id: string, data: Readable): Promise<Image>;
  /** Removes an image (a failed upload's); a missing one is success. */
  remove(caller: ImageCaller, id: string): Promise<void>;
  /**
   * A local file with the image's data: the stored file itself for cairn's
   * own store; for Glance a download into `scratchDir` named after `key`,
   * reused when a retried task finds it complete.
   */
  fetchToFile(caller: ImageCaller, image: Image, scratchDir: string, key: string): Promise<ImageFile>;
}

/** Glance's rule for who sees an image: public and community to everyone, the rest to its owner (and admins). */
export function visibleTo(image: Pick<Image, 'visibility' | 'owner'>, caller: ImageCaller): boolean {
  if (caller.isAdmin) return true;
  if (image.visibility === ImageVisibility.public || image.visibility === ImageVisibility.community) return true;
  return image.owner === caller.projectId;
}

/** The image's size in whole GiB, rounded up (Cinder's `image_size_in_gb`). */
export const imageSizeGib = (bytes: number | null): number => Math.ceil((bytes ?? 0) / 1024 ** 3);
