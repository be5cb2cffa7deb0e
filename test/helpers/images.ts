import { createHash, randomBytes } from 'node:crypto';
import { TOKEN } from './cairn';

/** Raw Glance calls on a cairn (or any Glance) at `url`, with `token`. */
export function glance(url: string, token = TOKEN) {
  const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/v2${p}`, {
      method,
      headers: {
        'X-Auth-Token': token,
        Accept: 'application/json',
        ...(body !== undefined && !Buffer.isBuffer(body) ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    const buf = Buffer.from(await res.arrayBuffer());
    let json: any;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json, raw: buf };
  };
  return {
    call,
    get: (p: string) => call('GET', p),
    /** A new image with `data` uploaded: active. */
    async image(fields: Record<string, unknown>, data: Buffer): Promise<any> {
      const created = await call('POST', '/images', { disk_format: 'raw', container_format: 'bare', ...fields });
      if (created.status !== 201) throw new Error(`image create: ${created.status} ${created.raw.toString()}`);
      const put = await call('PUT', `/images/${created.body.id}/file`, data, { 'Content-Type': 'application/octet-stream' });
      if (put.status !== 204) throw new Error(`image upload: ${put.status} ${put.raw.toString()}`);
      return (await call('GET', `/images/${created.body.id}`)).body;
    },
  };
}

/** Bytes that are not all zero (a sparse copy must still carry them), with a hole in the middle. */
export function imageBytes(size: number): Buffer {
  const b = Buffer.alloc(size);
  randomBytes(Math.min(size, 100_000)).copy(b, 0);
  if (size > 300_000) randomBytes(100_000).copy(b, size - 100_000);
  return b;
}

export const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** An active raw image in cairn's own store at `url` (a tiny one unless `data` is given); its id. */
export async function anImage(url: string, fields: Record<string, unknown> = {}, data: Buffer = imageBytes(4096)): Promise<string> {
  return (await glance(url).image({ name: 'test-image', ...fields }, data)).id;
}
