import fs from 'node:fs/promises';
import { DriverError } from '../../domain/errors';
import { AttemptLost } from './driver';

/** Filesystem errors worth a retry: out of space may clear, an NFS mount may come back; a bad path will not. */
export const TRANSIENT_FS_CODES: ReadonlySet<string> = new Set([
  'EAGAIN',
  'EBUSY',
  'EMFILE',
  'ENFILE',
  'ENOSPC',
  'EINTR',
  'EIO',
  'ESTALE',
  'ETIMEDOUT',
]);

/** A failed filesystem step as the DriverError the task runner retries or records (`<op> failed: <reason>`). */
export function fsFailure(op: string, err: unknown): Error {
  // A lost attempt, an aborted operation and a DriverError stay what they are.
  if (err instanceof AttemptLost || err instanceof DriverError || (err as Error)?.name === 'AbortError') return err as Error;
  const e = err as NodeJS.ErrnoException;
  return new DriverError(`${op} failed: ${e.message}`, TRANSIENT_FS_CODES.has(e.code ?? ''), e.code ?? '');
}

export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
