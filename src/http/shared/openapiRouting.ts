import type OpenAPIBackend from 'openapi-backend';
import type { Operation, Request } from 'openapi-backend';

/** `pathTemplateToPattern` of openapi-backend's router: `{param}` matches one segment, the rest literally. */
function templatePattern(template: string): RegExp {
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${template
      .replace(/\{[^}]+\}/g, '\0')
      .split('\0')
      .map(literal)
      .join('[^/]+')}$`,
  );
}

/**
 * openapi-backend stays the router, with its own rules, but does the work once:
 * its router rebuilds the operation list from the whole document (lodash, a copy
 * per operation) several times per request, and on every request with a path
 * parameter compiles a RegExp per operation of the document. The document never
 * changes once initialised, so this freezes the list and compiles each template
 * once. `matchOperation` below is the router's algorithm, step for step: the
 * operation of the exact path and method; else, among the templates matching the
 * path, most literal characters first (a stable order, as lodash's `orderBy`),
 * the first with the method; none matching → 404, no method → 405 (the errors
 * openapi-backend's `handleRequest` maps to the notFound/methodNotAllowed handlers).
 * Call after `api.init()`.
 */
export function freezeRouting(api: OpenAPIBackend): void {
  const router = api.router;
  // Private in the typings; the router's own check, so an apiRoot keeps meaning what it means there.
  const underApiRoot = (path: string) => (router as unknown as { isUnderApiRoot(p: string): boolean }).isUnderApiRoot(path);
  const operations = router.getOperations();
  router.getOperations = () => operations;

  const byPath = new Map<string, Operation[]>();
  for (const op of operations) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op]);
  const specificity = (op: Operation) => op.path.replace(/\{.*?\}/g, '').length;
  const templates = operations
    .map((op, i) => ({ op, re: templatePattern(op.path), rank: specificity(op), i }))
    .sort((a, b) => b.rank - a.rank || a.i - b.i);

  router.matchOperation = ((req: Request, strict?: boolean): Operation | undefined => {
    const fail = (message: string) => {
      if (strict) throw Error(message);
      return undefined;
    };
    const normalized = router.normalizeRequest(req);
    if (!underApiRoot(normalized.path)) return fail('404-notFound: no route matches request');
    const path = router.normalizePath(normalized.path);
    const exact = byPath.get(path)?.find((op) => op.method === normalized.method);
    if (exact) return exact;
    let anyPath = false;
    for (const t of templates) {
      if (!t.re.test(path)) continue;
      anyPath = true;
      if (t.op.method === normalized.method) return t.op;
    }
    return fail(anyPath ? '405-methodNotAllowed: this method is not registered for the route' : '404-notFound: no route matches request');
  }) as typeof router.matchOperation;
}
