import { badRequest } from '../../domain/errors';
import { atLeast, type ApiVersion } from '../../domain/microversion';
import { refTarget } from '../shared/jsonPath';
import { pyStr } from '../shared/validationMessage';

/** A schema node of the document: the keywords read here; the others pass through untouched. */
export interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-versions'?: string[];
  'x-min-version'?: string;
  'x-max-version'?: string;
  [keyword: string]: unknown;
}

const parse = (s: string): ApiVersion => {
  const [major, minor] = s.split('.').map(Number);
  return { major: major!, minor: minor! };
};

/** Whether a property annotated `x-min-version` / `x-max-version` / `x-versions: ['A-B', 'A-']` exists at `v`. */
export function existsAt(prop: Schema, v: ApiVersion): boolean {
  const within = (lo?: string, hi?: string) =>
    (!lo || atLeast(v, parse(lo).major, parse(lo).minor)) && (!hi || !atLeast(v, parse(hi).major, parse(hi).minor + 1));
  if (Array.isArray(prop['x-versions'])) {
    return prop['x-versions'].some((r) => {
      const [lo, hi] = r.split('-');
      return within(lo, hi || undefined);
    });
  }
  return within(prop['x-min-version'], prop['x-max-version']);
}

/**
 * Nova picks one request schema per microversion range
 * (`@validation.schema(..., '2.49', '2.78')`); the OpenAPI document has one
 * schema holding every version's properties, each marked with the versions
 * it exists at. This refuses a property sent at a version it does not exist
 * at with the text Nova's schema gives an unexpected property. Run after
 * the document's own validation; `$ref`s resolve within `doc`.
 */
export function checkVersionedProperties(doc: unknown, schema: Schema | undefined, body: unknown, v: ApiVersion): void {
  const resolve = (node: Schema): Schema => {
    if (typeof node?.$ref !== 'string') return node;
    const target = refTarget(doc, node.$ref) as Schema;
    const { $ref: _ref, ...siblings } = node;
    return { ...resolve(target), ...siblings };
  };
  const walk = (raw: Schema | undefined, value: unknown, key: string | number | undefined): void => {
    const s = raw && resolve(raw);
    if (!s || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      if (s.items) value.forEach((item, i) => walk(s.items, item, i));
      return;
    }
    const props: Record<string, Schema> = s.properties ?? {};
    const unexpected = Object.keys(value)
      .filter((k) => props[k] && !existsAt(resolve(props[k]), v))
      .sort();
    if (unexpected.length) {
      const list = unexpected.map((k) => `'${k}'`).join(', ');
      const msg = `Additional properties are not allowed (${list} ${unexpected.length === 1 ? 'was' : 'were'} unexpected)`;
      throw badRequest(key === undefined ? msg : `Invalid input for field/attribute ${key}. Value: ${pyStr(value)}. ${msg}`);
    }
    for (const [k, child] of Object.entries(value)) if (props[k]) walk(props[k], child, k);
  };
  walk(schema, body, undefined);
}
