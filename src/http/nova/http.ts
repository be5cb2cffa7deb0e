import type { RequestContext } from '../../domain/context';
import type { RawQuery } from '../../services/listQuery';
import type { JsonBody, Reply } from '../shared/http';
import type { operations } from './generated/compute';

/**
 * Nova's links: `self` under `/v2.1`, `bookmark` without the version, the
 * project id in both only when the request URL had it.
 */
export class ComputeLinks {
  constructor(
    readonly origin: string,
    private readonly projectInUrl: string | undefined,
  ) {}

  private prefix(versioned: boolean): string {
    return `${this.origin}${versioned ? '/v2.1' : ''}${this.projectInUrl ? `/${this.projectInUrl}` : ''}`;
  }

  resource(collection: string, id: string) {
    return [
      { rel: 'self', href: `${this.prefix(true)}/${collection}/${id}` },
      { rel: 'bookmark', href: `${this.prefix(false)}/${collection}/${id}` },
    ];
  }

  bookmark(collection: string, id: string) {
    return [{ rel: 'bookmark', href: `${this.prefix(false)}/${collection}/${id}` }];
  }

  self(collection: string, id: string): string {
    return `${this.prefix(true)}/${collection}/${id}`;
  }

  /** The `*_links` next link: the same query with `marker` set to the last item (`_get_collection_links`). */
  next(path: string, query: Record<string, unknown>, markerId: string) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (k !== 'marker' && v !== undefined) params.append(k, String(v));
    params.append('marker', markerId);
    return [{ rel: 'next', href: `${this.prefix(true)}/${path}?${params.toString()}` }];
  }
}

/** What a compute handler gets (B: the body's type). */
export interface ComputeRequest<B = unknown> {
  readonly ctx: RequestContext;
  readonly links: ComputeLinks;
  readonly params: Record<string, string>;
  readonly query: RawQuery;
  readonly body: B;
}

export type ComputeHandler<B = unknown> = (r: ComputeRequest<B>) => Promise<Reply>;
/** Handlers by operationId, whatever body each is typed with (`ComputeRoutes` types them; the mount validates). */
export type ComputeRouteTable = Record<string, ComputeHandler<never>>;
/** The compute API's handlers by operationId, each with its body type from api-spec/compute.yaml. */
export type ComputeRoutes = { [K in keyof operations]?: ComputeHandler<JsonBody<operations[K]>> };
