import { badRequest, notFound } from '../../domain/errors';

/** Metadata rules shared by volumes and snapshots (Cinder's metadata controllers). */
export type Metadata = Record<string, string>;

/** POST merges, PUT replaces. */
export const nextMetadata = (current: Metadata, given: Metadata, replace: boolean): Metadata =>
  replace ? given : { ...current, ...given };

/** `GET …/metadata/{key}`: `{key: value}`, or Cinder's 404. */
export function metadataItem(md: Metadata, key: string): Metadata {
  if (!(key in md)) throw notFound('Metadata item was not found');
  return { [key]: md[key]! };
}

/** `PUT …/metadata/{key}` takes exactly that one key. */
export function checkItemBody(key: string, meta: Metadata): void {
  const keys = Object.keys(meta);
  if (keys.length > 1) throw badRequest('Request body contains too many items');
  if (keys[0] !== key) throw badRequest('Request body and URI mismatch');
}

/** `DELETE …/metadata/{key}`: the metadata without that key, or Cinder's 404. */
export function withoutItem(md: Metadata, key: string): Metadata {
  if (!(key in md)) throw notFound('Metadata item was not found');
  const { [key]: _gone, ...rest } = md;
  return rest;
}
