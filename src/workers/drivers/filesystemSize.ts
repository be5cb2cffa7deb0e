import fs from 'node:fs/promises';

/** Each storage directory's filesystem size and when it was read; file drivers are made per attempt, so it lives here. */
const sizeByDir = new Map<string, { bytes: number; at: number }>();
const TTL_MS = 60_000;

/**
 * The size of the filesystem holding `dir`, read again once TTL_MS have passed: it changes only when the
 * filesystem is resized, and each call across the thread pool is a turn an all-in-one's create waits for
 * behind the requests in between (issue 17). A storage directory not made yet is made (the first create).
 */
export async function filesystemBytes(dir: string): Promise<number> {
  const now = Date.now();
  const known = sizeByDir.get(dir);
  if (known && now - known.at < TTL_MS) return known.bytes;
  const st = await fs.statfs(dir).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await fs.mkdir(dir, { recursive: true });
    return fs.statfs(dir);
  });
  const bytes = st.blocks * st.bsize;
  sizeByDir.set(dir, { bytes, at: now });
  return bytes;
}
