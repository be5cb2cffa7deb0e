import type { Request } from 'express';
import type { Readable } from 'node:stream';
import type { GlanceApi } from '../../services/images/glanceApi';
import type { ImageCaller } from '../../domain/image';
import { ImageStatus } from '../../domain/status';
import { glanceForbidden, glanceNotFound } from '../../services/images/errors';
import { GLANCE_SCHEMAS } from './schemas';
import { glanceImage } from './view';
import type { operations } from './generated/image';

/** What an image handler gets; `raw` is the request itself, for the data upload's stream. */
export interface ImageRequest {
  readonly caller: ImageCaller;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | string[] | undefined>;
  readonly body: unknown;
  readonly raw: Request;
}

export interface ImageReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Streamed as the body (image data). */
  readonly stream?: Readable;
}

export type ImageRouteTable = Record<string, (r: ImageRequest) => Promise<ImageReply>>;
/** The image API's operationIds (api-spec/image.yaml); bodies stay unknown: the store applies Glance's own rules. */
type ImageRoutes = { [K in keyof operations]?: (r: ImageRequest) => Promise<ImageReply> };

/** The `next`/`first` links of a list: the request's query, with the marker replaced (Glance's index serializer). */
function listLink(query: ImageRequest['query'], marker: string | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === 'marker' || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
  }
  if (marker !== undefined) params.append('marker', marker);
  const qs = params.toString();
  return qs ? `/v2/images?${qs}` : '/v2/images';
}

function schema(name: string): ImageReply {
  // Own keys only: `__proto__`, `constructor` and the like are no schema names.
  const make = Object.hasOwn(GLANCE_SCHEMAS, name) ? GLANCE_SCHEMAS[name] : undefined;
  if (!make) throw glanceNotFound('The resource could not be found.');
  return { status: 200, body: make() };
}

/** operationId → handler, over the local store's Glance rules. */
export function imageRoutes(api: GlanceApi, openData: (id: string) => Promise<Readable>): ImageRouteTable {
  return {
    listImages: async (r) => {
      const page = await api.list(r.caller, r.query);
      const body: Record<string, unknown> = {
        images: page.images.map(glanceImage),
        first: listLink(r.query, undefined),
        schema: '/v2/schemas/images',
      };
      if (page.nextMarker) body.next = listLink(r.query, page.nextMarker);
      return { status: 200, body };
    },
    showImage: async (r) => ({ status: 200, body: glanceImage(await api.show(r.caller, r.params.image_id!)) }),
    createImage: async (r) => {
      const image = await api.create(r.caller, r.body);
      return { status: 201, body: glanceImage(image), headers: { Location: `/v2/images/${image.id}` } };
    },
    deleteImage: async (r) => {
      await api.delete(r.caller, r.params.image_id!);
      return { status: 204 };
    },
    downloadImage: async (r) => {
      const image = await api.show(r.caller, r.params.image_id!);
      if (image.status === ImageStatus.deactivated && !r.caller.isAdmin) {
        throw glanceForbidden('The requested image has been deactivated. Image data download is prohibited.');
      }
      // Glance answers 204 for an image without data (queued, saving, killed).
      if (image.size === null || image.checksum === null) return { status: 204 };
      return {
        status: 200,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(image.size), 'Content-MD5': image.checksum },
        stream: await openData(image.id),
      };
    },
    deactivateImage: async (r) => {
      await api.deactivate(r.caller, r.params.image_id!);
      return { status: 204 };
    },
    reactivateImage: async (r) => {
      await api.reactivate(r.caller, r.params.image_id!);
      return { status: 204 };
    },
    showSchema: async (r) => schema(r.params.schema_name!),
    showMetadefsSchema: async (r) => schema(`metadefs/${r.params.schema_name!}`),
    listMetadefNamespaces: async () => ({
      status: 200,
      body: { namespaces: [], first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces' },
    }),
    listMetadefResourceTypes: async () => ({ status: 200, body: { resource_types: [] } }),
    uploadImage: async (r) => {
      await api.upload(r.caller, r.params.image_id!, r.raw.get('content-type'), r.raw, r.raw.get('content-length'));
      return { status: 204 };
    },
  } satisfies ImageRoutes;
}
