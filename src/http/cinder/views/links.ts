/**
 * Builds Cinder's `links` (self + bookmark) and `*_links` next links. The
 * project id appears only if the request URL had it
 * (`cinder/api/common.py:_get_project_id_in_url`).
 */
export class Links {
  constructor(
    private readonly origin: string,
    private readonly projectInUrl: string | undefined,
  ) {}

  private prefix(versioned: boolean): string {
    const p = this.projectInUrl ? `/${this.projectInUrl}` : '';
    return `${this.origin}${versioned ? '/v3' : ''}${p}`;
  }

  resource(collection: string, id: string) {
    return [
      { rel: 'self', href: `${this.prefix(true)}/${collection}/${id}` },
      { rel: 'bookmark', href: `${this.prefix(false)}/${collection}/${id}` },
    ];
  }

  /** The `next` link: the same query with `marker` set to the last item's id. */
  next(path: string, query: Record<string, unknown>, markerId: string) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (k === 'marker' || v === undefined) continue;
      params.append(k, String(v));
    }
    params.append('marker', markerId);
    return [{ rel: 'next', href: `${this.prefix(true)}/${path}?${params.toString()}` }];
  }
}
