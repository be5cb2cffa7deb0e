import fs from 'node:fs/promises';
import path from 'node:path';
import type { DriverScan } from './driver';
import { fsFailure } from './fsErrors';

/**
 * Every file and folder under a storage directory, `skip` (a top-level name) left out: two levels in Ganeti's
 * layout, but any depth is walked. What `cairn-manage reconcile` compares with the database.
 */
export async function scanStorage(root: string, skip: string): Promise<DriverScan> {
  const files: Array<{ path: string; bytes: number }> = [];
  const dirs: Array<{ path: string; entries: number }> = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw fsFailure(`scan ${dir}`, err);
    });
    if (dir !== root) dirs.push({ path: dir, entries: entries.length });
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (dir === root && e.name === skip) continue;
      if (e.isDirectory()) await walk(p);
      else files.push({ path: p, bytes: (await fs.lstat(p).catch(() => ({ size: 0 }))).size });
    }
  };
  await walk(root);
  return { root, files, dirs };
}
