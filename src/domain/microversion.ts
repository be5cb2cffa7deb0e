import { ApiError, badRequest } from './errors';

/** A negotiated API version, e.g. 3.42, compared as (major, minor). */
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

export const VOLUME_MIN: ApiVersion = { major: 3, minor: 0 };
export const VOLUME_MAX: ApiVersion = { major: 3, minor: 70 };
export const VOLUME_UPDATED = '2022-08-31T00:00:00Z';

export const fmt = (v: ApiVersion): string => `${v.major}.${v.minor}`;
export const atLeast = (v: ApiVersion, major: number, minor: number): boolean => v.major > major || (v.major === major && v.minor >= minor);

const VERSION_RE = /^([1-9]\d*)\.([1-9]\d*|0)$/;

/**
 * Parses the `OpenStack-API-Version` header for one service
 * (`cinder/api/openstack/wsgi.py:set_api_version_request`): absent → the
 * minimum, `latest` → the maximum, bad format → 400, out of range → 406.
 */
export function negotiate(header: string | undefined, service: string, min: ApiVersion, max: ApiVersion): ApiVersion {
  if (header === undefined || header.trim() === '') return min;
  let requested: string | undefined;
  for (const part of header.split(',')) {
    const [svc, ver] = part.trim().split(/\s+/, 2);
    if (svc?.toLowerCase() === service) requested = ver ?? '';
  }
  if (requested === undefined) return min;
  if (requested === 'latest') return max;
  const m = VERSION_RE.exec(requested);
  if (!m) {
    throw badRequest(`API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  if (!atLeast(v, min.major, min.minor) || atLeast(v, max.major, max.minor + 1)) {
    throw new ApiError(
      406,
      'computeFault',
      `Version ${fmt(v)} is not supported by the API. Minimum is ${fmt(min)} and maximum is ${fmt(max)}.`,
    );
  }
  return v;
}
