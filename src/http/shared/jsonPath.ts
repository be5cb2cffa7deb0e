/** The value at `keys` below `node` (a parsed OpenAPI document or JSON body), undefined where a step is not an object. */
export function valueAt(node: unknown, keys: readonly string[]): unknown {
  let o = node;
  for (const k of keys) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Record<string, unknown>)[k];
  }
  return o;
}

/** The node a local `$ref` (`#/components/schemas/X`) names within `doc`. */
export const refTarget = (doc: unknown, ref: string): unknown => valueAt(doc, ref.replace(/^#\//, '').split('/'));
