import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { PROJECT, USER, waitFor } from './cairn';

/** An HTTP client for one project (noauth: every caller is an admin) at one microversion. */
export function client(url: string, opts: { project?: string; version?: string } = {}) {
  const project = opts.project ?? PROJECT;
  const headers = { 'X-Auth-Token': `${USER}:${project}`, 'OpenStack-API-Version': `volume ${opts.version ?? '3.70'}` };
  const at = (p: string) => `/v3/${project}${p}`;
  const api = () => request(url);
  return {
    project,
    get: (p: string) => api().get(at(p)).set(headers),
    post: (p: string, body: object) => api().post(at(p)).set(headers).send(body),
    put: (p: string, body: object) => api().put(at(p)).set(headers).send(body),
    delete: (p: string) => api().delete(at(p)).set(headers),
    /** The same client at another microversion. */
    at: (version: string) => client(url, { project, version }),
  };
}
export type Client = ReturnType<typeof client>;

/** Waits until GET `path` shows `key` in `status` (or `error`, which fails the wait). */
export async function untilStatus(c: Client, p: string, key: 'volume' | 'snapshot', status: string): Promise<any> {
  return waitFor(
    async () => {
      const res = await c.get(p);
      const item = res.body[key];
      if (item?.status === 'error' && status !== 'error') throw new Error(`${p} went to error`);
      return item?.status === status && item;
    },
    60_000,
    `${p} ${status}`,
  ); // copies of whole volumes: generous on a loaded machine
}

export async function availableVolume(c: Client, body: Record<string, unknown> = {}): Promise<any> {
  const res = await c.post('/volumes', { volume: { size: 1, ...body } });
  if (res.status !== 202) throw new Error(`volume create: ${res.status} ${res.text}`);
  return untilStatus(c, `/volumes/${res.body.volume.id}`, 'volume', 'available');
}

export async function availableSnapshot(c: Client, volumeId: string, body: Record<string, unknown> = {}): Promise<any> {
  const res = await c.post('/snapshots', { snapshot: { volume_id: volumeId, ...body } });
  if (res.status !== 202) throw new Error(`snapshot create: ${res.status} ${res.text}`);
  return untilStatus(c, `/snapshots/${res.body.snapshot.id}`, 'snapshot', 'available');
}

const REF = path.resolve(__dirname, '../fixtures/cinder-21-live');
/** A recorded Cinder 21 exchange's response. */
export const recorded = (name: string): { status: number; body: any } =>
  JSON.parse(fs.readFileSync(path.join(REF, `${name}.json`), 'utf8')).response;

/**
 * A small shape check (the contract test's shapeDiff is not exported): the
 * same key sets at every object level and the same JSON types, arrays by
 * their first element. Values are not compared.
 */
export function keyDiff(expected: unknown, actual: unknown, at = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(expected) !== kind(actual)) return [`${at}: expected ${kind(expected)}, got ${kind(actual)}`];
  if (Array.isArray(expected)) {
    const a = actual as unknown[];
    return expected.length && a.length ? keyDiff(expected[0], a[0], `${at}[0]`) : [];
  }
  if (kind(expected) !== 'object') return [];
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  return [
    ...Object.keys(e)
      .filter((k) => !(k in a))
      .map((k) => `${at}.${k}: missing`),
    ...Object.keys(a)
      .filter((k) => !(k in e))
      .map((k) => `${at}.${k}: unexpected`),
    ...Object.keys(e)
      .filter((k) => k in a)
      .flatMap((k) => keyDiff(e[k], a[k], `${at}.${k}`)),
  ];
}

/** The file of a volume, as the driver recorded it. */
export async function volumeFile(db: (table: string) => any, id: string): Promise<string> {
  const row = await db('volumes').where({ id }).first();
  if (!row?.provider_location) throw new Error(`volume ${id} has no provider_location`);
  return row.provider_location as string;
}

export function writeAt(file: string, pos: number, data: Buffer | string): void {
  const fd = fs.openSync(file, 'r+');
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  fs.writeSync(fd, buf, 0, buf.length, pos);
  fs.closeSync(fd);
}

export function readAt(file: string, pos: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, buf, 0, n, pos);
  fs.closeSync(fd);
  return buf;
}
