import { createHash } from 'node:crypto';

const serviceUuids = new Map<string, string>();

/** A stable UUID for a backend's volume service (Cinder's `service_uuid`), the same in every process. */
export function backendServiceUuid(backend: string): string {
  // Every volume view asks (a hash per volume of a page); backends are few, so remember each.
  let uuid = serviceUuids.get(backend);
  if (uuid === undefined) {
    const h = createHash('sha1').update(`cairn-volume:${backend}`).digest('hex');
    uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    serviceUuids.set(backend, uuid);
  }
  return uuid;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuidLike = (s: string): boolean => UUID_RE.test(s);
