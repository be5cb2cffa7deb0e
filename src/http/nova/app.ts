import fs from 'node:fs';
import type { Request, Router } from 'express';
import type { Logger } from 'pino';
import yaml from 'js-yaml';
import { acceptAnyQuery } from '../shared/lenientQuery';
import type { Document } from 'openapi-backend';
import { COMPUTE_MAX, COMPUTE_MIN, COMPUTE_UPDATED } from '../../domain/compute';
import { ApiError, badRequest, notFound } from '../../domain/errors';
import { fmt, negotiate, type ApiVersion } from '../../domain/microversion';
import type { Authenticator } from '../../auth/identity';
import { ComputeLinks, type ComputeRequest, type ComputeRouteTable } from './http';
import { mountWing, originOf } from '../shared/mount';
import { FAULT_REFUSALS, faultRenderer } from '../shared/fault';
import { checkVersionedProperties, existsAt, type Schema } from './versionGate';
import { valueAt } from '../shared/jsonPath';
import type { RequestMetricLocals } from '../../metrics';
import type { Idempotency } from '../../services/idempotency';
import { specFile } from '../shared/specs';

const COMPUTE_FILE = specFile('compute.yaml');

export function loadComputeApi(): Document {
  return acceptAnyQuery(yaml.load(fs.readFileSync(COMPUTE_FILE, 'utf8')) as Document);
}

const NOT_FOUND = 'The resource could not be found.';

/**
 * `OpenStack-API-Version: compute X`, else the legacy
 * `X-OpenStack-Nova-API-Version: X` (`microversion_parse.get_version` with
 * legacy headers); neither → 2.1. 400 on a malformed version, 406 out of range.
 */
export function computeVersion(req: Request): ApiVersion {
  const header = req.get('openstack-api-version');
  if (header?.split(',').some((p) => p.trim().split(/\s+/)[0]?.toLowerCase() === 'compute')) {
    return negotiate(header, 'compute', COMPUTE_MIN, COMPUTE_MAX);
  }
  const legacy = req.get('x-openstack-nova-api-version');
  return legacy ? negotiate(`compute ${legacy.trim()}`, 'compute', COMPUTE_MIN, COMPUTE_MAX) : COMPUTE_MIN;
}

/** Nova's `v2.1` version document (`versions.py`, `views/versions.py:build_version`). */
export function computeVersionDocument(origin: string) {
  return {
    version: {
      id: 'v2.1',
      status: 'CURRENT',
      version: fmt(COMPUTE_MAX),
      min_version: fmt(COMPUTE_MIN),
      updated: COMPUTE_UPDATED,
      links: [
        { rel: 'self', href: `${origin}/v2.1/` },
        { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
      ],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
    },
  };
}

export interface ComputeAppDeps {
  readonly routes: ComputeRouteTable;
  readonly authenticate: Authenticator;
  readonly log: Logger;
  /** `Idempotency-Key` on creates (src/services/idempotency.ts). */
  readonly idempotency?: Idempotency;
}

/**
 * The compute API, mounted at `/v2.1` of the volume API's app: its own
 * OpenAPI document (api-spec/compute.yaml) on the shared mount
 * (src/http/shared/mount.ts), Nova's microversion headers, and the fault
 * envelope Nova and Cinder share.
 */
export function computeRouter(deps: ComputeAppDeps): Router {
  const doc = loadComputeApi();
  return mountWing<ComputeRequest>({
    api: 'compute',
    spec: loadComputeApi(),
    ajv: { allErrors: true, formats: true },
    routes: deps.routes,
    request: (m) => ({ ctx: m.ctx, links: new ComputeLinks(originOf(m.req), m.projectInUrl), body: m.body }),
    authenticate: deps.authenticate,
    versions: {
      beforeToken: true,
      negotiate: (req, res) => {
        const version = computeVersion(req);
        res.set({
          'OpenStack-API-Version': `compute ${fmt(version)}`,
          'X-OpenStack-Nova-API-Version': fmt(version),
          Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
        });
        return version;
      },
      // An operation that exists only up to a microversion (the deprecated proxies, `x-max-version`) is a 404 beyond it.
      checkOperation: (op, v) => {
        if (!existsAt(op as Schema, v)) throw notFound(NOT_FOUND);
      },
      checkBody: (op, body, v) => {
        const bodySchema = valueAt(doc.paths, [op.path, op.method, 'requestBody', 'content', 'application/json', 'schema']);
        checkVersionedProperties(doc, bodySchema as Schema | undefined, body, v);
      },
    },
    projectPrefix: {
      otherProject: (inUrl, tokenProject) =>
        badRequest(`Malformed request URL: URL's project_id '${inUrl}' doesn't match Context's project_id '${tokenProject}'`),
    },
    checkUrl: 'afterPrefix',
    wholeQuery: false,
    // GET /v2.1, /v2.1/ and /v2.1/{project_id}: where novaclient and keystoneauth read the version range.
    // Nova serves /v2.1/ outside its auth pipeline (api-paste.ini); keystoneauth's discovery asks without
    // a token, and noauth would answer that with a 204, so no form of it needs a token here.
    answerWithoutToken: (req, res, apiPath) => {
      if (apiPath !== '' || req.method !== 'GET') return false;
      (res.locals as RequestMetricLocals).operation = 'versions';
      res.status(200).json(computeVersionDocument(originOf(req)));
      return true;
    },
    refusals: {
      ...FAULT_REFUSALS,
      notFound: () => notFound(NOT_FOUND),
      methodNotAllowed: () => new ApiError(405, 'badMethod', 'The method is not allowed for this resource.'),
    },
    renderError: faultRenderer(deps.log),
    idempotency: deps.idempotency,
    log: deps.log,
  });
}
