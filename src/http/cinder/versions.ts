import { fmt, VOLUME_MAX, VOLUME_MIN, VOLUME_UPDATED } from '../../domain/microversion';

/** Cinder's version document (`cinder/api/views/versions.py`), the same for `GET /` (300) and `GET /v3/` (200). */
export function versionsDocument(origin: string) {
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: fmt(VOLUME_MAX),
        min_version: fmt(VOLUME_MIN),
        updated: VOLUME_UPDATED,
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${origin}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}
