/**
 * The workers' image work: a volume filled from an image (`volume.create`
 * with an image `source`) and a volume copied into an image
 * (`volume.upload_image`). Both go through the ImageService the worker was
 * given, so cairn's own store and an external Glance are the same here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DriverError } from '../../domain/errors';
import { gibToBytes } from '../../domain/units';
import type { DbTaskRow } from '../../db/tasks';
import { COPYABLE_DISK_FORMATS, ImageStatus, type ImageCaller, type ImageService } from '../../domain/image';
import type { ImageSourcePayload } from '../../services/volumes/sources';
import type { Driver } from '../drivers/driver';
import type { WorkerEnv } from '../workerEnv';

/** A task acts for the project that asked (an admin caller: the API checked who may read what). */
export const taskCaller = (task: DbTaskRow): ImageCaller => ({ projectId: task.project_id ?? '', userId: 'cairn', isAdmin: true });

function imagesOf(env: WorkerEnv): ImageService {
  if (!env.images) throw new DriverError('this worker has no image service', false);
  return env.images;
}

/**
 * A new volume holding the image's data, grown to the task's size. The
 * image is checked again (it may have changed since the API looked): still
 * there, active, raw, not larger than the volume. A file-driver volume
 * that exists already is an earlier attempt's finished copy (its copies
 * appear by rename): nothing is fetched again.
 */
export async function createFromImage(task: DbTaskRow, driver: Driver, env: WorkerEnv): Promise<string> {
  const copy = driver.copyFrom?.bind(driver);
  if (!copy) throw new DriverError('the driver does not support creating a volume from an image', false);
  const s = task.payload.source as ImageSourcePayload;
  const size = Number(task.payload.size);
  const vol = { id: task.resource_id };
  // The file driver's copies appear by rename, so an existing file is finished; other drivers redo their copy.
  const done = driver.name === 'file' ? await driver.inspect(vol).catch(() => undefined) : undefined;
  if (done?.exists) return copy(vol, size, { kind: 'file', path: done.location });

  const images = imagesOf(env);
  const caller = taskCaller(task);
  const image = await images.get(caller, s.id);
  if (!image) throw new DriverError(`image ${s.id} could not be found`, false);
  if (image.status !== ImageStatus.active) throw new DriverError(`image ${s.id} is ${image.status}, not active`, false);
  if (!COPYABLE_DISK_FORMATS.includes(image.disk_format ?? '')) {
    throw new DriverError(
      `image ${s.id} has disk_format ${image.disk_format ?? 'none'}: cairn copies only ${COPYABLE_DISK_FORMATS.join(', ')} images into volumes`,
      false,
      '',
      'imageFormatUnsupported',
    );
  }
  if ((image.size ?? 0) > gibToBytes(size))
    throw new DriverError(`image ${s.id} (${image.size} bytes) is larger than the volume (${size} GiB)`, false);
  // The download folder is on the backend's storage: making it also makes the backend's folder of a fresh host.
  const scratch = env.scratchDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-image-'));
  await fs.promises.mkdir(scratch, { recursive: true });
  const file = await images.fetchToFile(caller, image, scratch, task.resource_id);
  try {
    return await copy(vol, size, { kind: 'file', path: file.path });
  } finally {
    await file.release();
  }
}

/**
 * `volume.upload_image`: the volume's data becomes the (queued) image's.
 * The driver says where the data is (`inspect`); only drivers whose
 * volumes are files can be read here. Re-running re-uploads: the store
 * accepts a new upload while the image is still saving.
 */
export async function uploadToImage(task: DbTaskRow, driver: Driver, env: WorkerEnv): Promise<void> {
  const images = imagesOf(env);
  const caller = taskCaller(task);
  const imageId = String(task.payload.image_id);
  const image = await images.get(caller, imageId);
  if (!image) throw new DriverError(`image ${imageId} was deleted before the upload`, false);
  if (image.status === ImageStatus.active) return; // an earlier attempt finished; its outcome was not recorded
  try {
    if (driver.name !== 'file') throw new DriverError(`the ${driver.name} driver cannot read a volume's data for an upload`, false);
    const where = await driver.inspect({ id: task.resource_id, location: (task.payload.provider_location as string | null) ?? null });
    if (!where.exists)
      throw new DriverError(`the data of volume ${task.resource_id} is missing: ${where.location}`, false, '', 'sourceDataMissing');
    await images.upload(caller, imageId, fs.createReadStream(where.location, { highWaterMark: 1024 * 1024 }));
  } catch (err) {
    // The last attempt: the image goes, as Cinder deletes an image whose upload failed.
    const retried = err instanceof DriverError && err.transient && task.attempts < task.max_attempts;
    if (!retried) await images.remove(caller, imageId).catch(() => undefined);
    throw err;
  }
}
