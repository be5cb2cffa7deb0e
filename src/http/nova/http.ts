import type { RequestContext } from '../../domain/context';
import type { RawQuery } from '../../services/listQuery';
import type { Reply } from '../shared/http';

/**
 * Nova's links: `self` under `/v2.1`, `bookmark` without the version, the
 * project id in both only when the request URL had it.
 */
export class ComputeLinks {
  constructor(readonly origin: string, private readonly projectInUrl: string | undefined) {}

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

/** What a compute handler gets. */
export interface ComputeRequest {
  readonly ctx: RequestContext;
  readonly links: ComputeLinks;
  readonly params: Record<string, string>;
  readonly query: RawQuery;
  readonly body: any;
}

export type ComputeHandler = (r: ComputeRequest) => Promise<Reply>;
export type ComputeRouteTable = Record<string, ComputeHandler>;
