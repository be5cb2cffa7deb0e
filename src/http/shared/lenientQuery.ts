import type { Document } from 'openapi-backend';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'];

/** The parts of the document read here (openapi-backend's Document is a union of two versions' types). */
interface Parameter {
  $ref?: string;
  in?: string;
  style?: string;
  schema?: { type?: unknown };
}
interface Operation {
  parameters?: Parameter[];
}
interface Walked {
  components?: { parameters?: { filters?: unknown } };
  paths?: Record<string, { parameters?: Parameter[] } & Record<string, Operation | undefined>>;
}

/**
 * Cinder and Nova ignore query keys an operation does not read (a show, an
 * action, `GET /limits?tenant_id=` before 3.39…); openapi-backend refuses
 * undeclared ones. This gives every operation without a free-form query
 * parameter the document's `filters` one (`components.parameters.filters`),
 * so an unknown key reaches the handler, which ignores it or, where the
 * service checks filters (lists from 3.31), refuses it with the service's text.
 */
export function acceptAnyQuery(doc: Document): Document {
  const d = doc as Walked;
  if (!d.components?.parameters?.filters) return doc;
  const isFilters = (p: Parameter | undefined) =>
    p?.$ref === '#/components/parameters/filters' || (p?.in === 'query' && p?.style === 'form' && p?.schema?.type === 'object');
  for (const item of Object.values(d.paths ?? {})) {
    for (const m of METHODS) {
      const op = item?.[m];
      if (!op) continue;
      if ([...(item.parameters ?? []), ...(op.parameters ?? [])].some(isFilters)) continue;
      op.parameters = [...(op.parameters ?? []), { $ref: '#/components/parameters/filters' }];
    }
  }
  return doc;
}
