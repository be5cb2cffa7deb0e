/** Cinder's wording when it refuses a backup request (`cinder/backup/api.py`, its schemas). */
import { badRequest, notFound } from '../../domain/errors';

export const backupNotFound = (id: string) => notFound(`Backup ${id} could not be found.`);
export const invalidBackup = (reason: string) => badRequest(`Invalid backup: ${reason}`);
/** Cinder's refusals of a backup or a snapshot in the wrong status for a restore or a backup. */
export const notAvailable = () => invalidBackup('Backup status must be available');
export const snapshotRefusal = (current: string) => () =>
  badRequest(`Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${current}".`);

/** Before its microversion a key is one Cinder's schema does not know. */
export function refuseKey(body: object, key: string): never {
  throw badRequest(
    `Invalid input for field/attribute backup. Value: ${JSON.stringify(body)}. Additional properties are not allowed ('${key}' was unexpected)`,
  );
}
