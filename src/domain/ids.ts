import { createHash } from 'node:crypto';

/** A stable UUID for a backend's volume service (Cinder's `service_uuid`), the same in every process. */
export function backendServiceUuid(backend: string): string {
  const h = createHash('sha1').update(`cairn-volume:${backend}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuidLike = (s: string): boolean => UUID_RE.test(s);
