/**
 * Images in `POST /servers` (issue #6): Nova's `_get_image` for `imageRef`,
 * `_check_requested_image` against the flavor or the root volume, and the
 * `_validate_bdm` lookup of mappings whose source is another image. Texts
 * are `nova/exception.py`'s.
 */
import { BdmDestination, type Flavor } from '../../domain/compute';
import { badRequest } from '../../domain/errors';
import { isUuidLike } from '../../domain/ids';
import { ImageStatus } from '../../domain/status';
import { GiB } from '../../domain/units';
import type { Conn } from '../../db/connection';
import type { Config } from '../../config';
import { imageServiceOf } from '../images';
import { imageCallerOf } from '../images/caller';
import type { Image } from '../../domain/image';
import { bdmImageNotFound, type Bdm } from './bdm';
import type { RequestContext } from '../../domain/context';

type Deps = { readonly db: Conn; readonly config: Config };

/** `servers.py:_image_uuid_from_href` then `compute/api.py:_get_image`: the imageRef's image, or Nova's 400. */
export async function imageOfRef(deps: Deps, ctx: RequestContext, imageRef: string): Promise<Image> {
  const id = imageRef.split('/').pop() ?? '';
  if (!isUuidLike(id)) throw badRequest('Invalid imageRef provided.');
  const image = await imageServiceOf(deps)
    .get(imageCallerOf(ctx), id)
    .catch(() => undefined);
  if (!image) throw badRequest(`Image ${id} could not be found.`);
  return image;
}

/** `_validate_bdm`: a mapping of another image than imageRef must name one the caller can get. */
export async function imageOfMapping(deps: Deps, ctx: RequestContext, id: string): Promise<Image> {
  const image = isUuidLike(id)
    ? await imageServiceOf(deps)
        .get(imageCallerOf(ctx), id)
        .catch(() => undefined)
    : undefined;
  if (!image) throw bdmImageNotFound(id);
  return image;
}

/**
 * `_check_requested_image`: the image is active, the flavor has its
 * min_ram; a root volume (when its size is known) has its min_disk, an
 * image root on the flavor's disk has room for its data and min_disk
 * (a flavor disk of 0 means "do not check").
 */
export function checkRequestedImage(image: Image, flavor: Flavor, root: Bdm | undefined): void {
  if (image.status !== ImageStatus.active) throw badRequest(`Image ${image.id} is not active.`);
  if (flavor.ram < image.min_ram) throw badRequest("Flavor's memory is too small for requested image.");
  const minDisk = image.min_disk * GiB;
  if (root && root.destination === BdmDestination.volume) {
    if (root.size !== undefined && minDisk > root.size * GiB) {
      throw badRequest(
        `Volume is smaller than the minimum size specified in image metadata. Volume size is ${root.size * GiB} bytes, minimum size is ${minDisk} bytes.`,
      );
    }
    return;
  }
  const dest = flavor.disk * GiB;
  if (dest === 0) return;
  if ((image.size ?? 0) > dest) {
    throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${dest} bytes, image is ${image.size} bytes.`);
  }
  if (minDisk > dest) {
    throw badRequest(
      `Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${dest} bytes, minimum size is ${minDisk} bytes.`,
    );
  }
}
