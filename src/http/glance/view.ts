import type { Image } from '../../domain/image';

/** Glance's timestamps: ISO 8601, seconds, `Z` (`timeutils.isotime`). */
export const isoGlance = (d: Date): string => `${new Date(d).toISOString().slice(0, 19)}Z`;

/**
 * An image as Glance v2 shows it (`ImagesController` serializer,
 * `_format_image`): extra properties at the top level, then the core
 * attributes (null ones included, as the image schema allows), links and
 * the schema reference.
 */
export function glanceImage(img: Image): Record<string, unknown> {
  return {
    ...img.properties,
    name: img.name,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: img.visibility,
    size: img.size,
    virtual_size: img.virtual_size,
    status: img.status,
    checksum: img.checksum,
    protected: img.protected,
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    owner: img.owner,
    os_hidden: img.os_hidden,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    id: img.id,
    created_at: isoGlance(img.created_at),
    updated_at: isoGlance(img.updated_at),
    tags: [...img.tags],
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** Glance's version document (`glance/api/versions.py`), for `GET /v2` and version discovery. */
export function glanceVersions(origin: string) {
  const version = (id: string, status: string) => ({ id, status, links: [{ rel: 'self', href: `${origin}/v2/` }] });
  return { versions: [version('v2.16', 'CURRENT'), version('v2.15', 'SUPPORTED'), version('v2.0', 'SUPPORTED')] };
}
