import fs from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';

/**
 * Opens a new volume file, O_EXCL as Ganeti does; an existing file means a previous attempt got here (`existed`).
 * Its folder is made only when the open finds it missing: each file-system call is a turn of the event loop, which
 * the all-in-one shares with the API.
 */
async function openNew(file: string): Promise<{ fh: fs.FileHandle; existed: boolean }> {
  for (let madeFolder = false; ; madeFolder = true) {
    try {
      return { fh: await fs.open(file, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600), existed: false };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return { fh: await fs.open(file, fsc.O_WRONLY), existed: true };
      if (code !== 'ENOENT' || madeFolder) throw err;
      await fs.mkdir(path.dirname(file), { recursive: true });
    }
  }
}

/** Creates `file` as a sparse file of `bytes`, synced; re-run after a crash, finishes it and never shrinks it. */
export async function createSparse(file: string, bytes: number): Promise<void> {
  const { fh, existed } = await openNew(file);
  try {
    // A file an earlier attempt left: never shrink data a user may have written. A new one is empty.
    if (!existed || (await fh.stat()).size < bytes) await fh.truncate(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
