/**
 * The schema-driven fuzzer of test/api/fuzz.test.ts: every operation of the
 * three OpenAPI documents, with bodies generated from their schemas and
 * then mutated, wild query strings, headers and path ids (fast-check
 * arbitraries, so a run is reproducible from its seed).
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';

type Schema = Record<string, any>;

export interface Operation {
  readonly api: 'volume' | 'compute' | 'image';
  readonly method: string;
  readonly template: string;
  readonly pathParams: string[];
  readonly query: Array<{ name: string; schema: Schema }>;
  readonly body?: Schema;
  readonly doc: Schema;
}

export interface FuzzRequest {
  readonly op: Operation;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const SPEC_DIR = path.join(__dirname, '..', '..', 'api-spec');
const load = (f: string) => yaml.load(fs.readFileSync(path.join(SPEC_DIR, f), 'utf8')) as Schema;

function resolve(doc: Schema, s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && typeof cur.$ref === 'string' && i < 20; i++) {
    cur = cur.$ref
      .slice(2)
      .split('/')
      .reduce((o: any, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return cur;
}

export function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [api, file] of [
    ['volume', 'openapi.yaml'],
    ['compute', 'compute.yaml'],
    ['image', 'image.yaml'],
  ] as const) {
    const doc = load(file);
    for (const [template, item] of Object.entries<Schema>(doc.paths)) {
      const shared: Schema[] = (item.parameters ?? []).map((p: Schema) => resolve(doc, p)!);
      for (const method of ['get', 'post', 'put', 'delete', 'patch']) {
        const op = item[method];
        if (!op) continue;
        const params: Schema[] = [...shared, ...(op.parameters ?? []).map((p: Schema) => resolve(doc, p)!)];
        const rb = resolve(doc, op.requestBody);
        out.push({
          api,
          method: method.toUpperCase(),
          template,
          doc,
          pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
          query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: resolve(doc, p.schema) ?? {} })),
          body: resolve(doc, rb?.content?.['application/json']?.schema),
        });
      }
    }
  }
  return out;
}

const WILD_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  '%ff',
  '..',
  '../..',
  'x'.repeat(300),
  'é😀',
  '\n\r\t',
  'None',
  'null',
  'true',
  '-1',
  '0',
  '1e400',
  '99999999999999999999',
  '2147483648',
  '------------------------------------',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  "'; drop table volumes; --",
  '<is> True',
  '{"a": 1}',
];
const WILD_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e300, 0.5, -0];

const wildScalar = () =>
  fc.oneof(
    fc.constantFrom<unknown>(...WILD_STRINGS),
    fc.constantFrom<unknown>(...WILD_NUMBERS),
    fc.constantFrom<unknown>(null, true, false, [], {}),
    fc.string({ maxLength: 12 }),
  );

/** Values of a JSON schema (roughly valid, so requests get past the validator often enough to reach handlers). */
function fromSchema(doc: Schema, raw: Schema | undefined, ids: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(doc, raw);
  if (!s || depth > 6) return fc.constant({});
  if (Array.isArray(s.enum) && s.enum.length) return fc.constantFrom(...s.enum);
  if ('const' in s) return fc.constant(s.const);
  const branches = s.oneOf ?? s.anyOf ?? s.allOf;
  if (Array.isArray(branches) && branches.length) return fc.oneof(...branches.map((b: Schema) => fromSchema(doc, b, ids, depth + 1)));
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ['object'] : ['string'];
  return fc.oneof(
    ...types.map((t): fc.Arbitrary<unknown> => {
      switch (t) {
        case 'object': {
          const props = Object.entries<Schema>(s.properties ?? {});
          const model = Object.fromEntries(props.map(([k, v]) => [k, fromSchema(doc, v, ids, depth + 1)]));
          const required = (s.required ?? []).filter((k: string) => k in model);
          const rec = fc.record(model, { requiredKeys: required });
          const extra =
            s.additionalProperties && typeof s.additionalProperties === 'object'
              ? fc.dictionary(
                  fc.constantFrom('k1', 'key', 'volume_backend_name', 'multiattach', 'constructor', 'a b', ''),
                  fromSchema(doc, s.additionalProperties, ids, depth + 1),
                  { maxKeys: 3 },
                )
              : fc.constant({});
          return fc.tuple(rec, extra).map(([a, b]) => ({ ...b, ...a }));
        }
        case 'array':
          return fc.array(fromSchema(doc, s.items, ids, depth + 1), { maxLength: 3 });
        case 'integer':
          return fc.oneof(
            fc.integer({ min: Math.max(s.minimum ?? -2, -2), max: Math.min(s.maximum ?? 4, 4) }),
            fc.constantFrom(...WILD_NUMBERS.filter(Number.isInteger)),
          );
        case 'number':
          return fc.oneof(fc.double({ noNaN: true, min: -10, max: 10 }), fc.constantFrom(...WILD_NUMBERS));
        case 'boolean':
          return fc.oneof(fc.boolean(), fc.constantFrom('true', 'False', 'yes'));
        case 'null':
          return fc.constant(null);
        default:
          if (s.format === 'uuid' || /_id$|uuid|Ref$/i.test(String(s.description ?? ''))) return fc.oneof(ids, fc.uuid());
          return fc.oneof(fc.string({ maxLength: 16 }), ids, fc.constantFrom(...WILD_STRINGS));
      }
    }),
  );
}

function deep(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

/** A body: generated from the schema, then (often) mutated, or raw text that is not what the schema wants at all. */
function bodyArb(op: Operation, ids: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> {
  const valid = op.body ? fromSchema(op.doc, op.body, ids) : fc.constant(undefined);
  const mutated = valid.chain((v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fc.constant(v);
    const keys = Object.keys(v);
    return fc.oneof(
      fc.constant(v),
      // One key's value replaced by anything.
      keys.length
        ? fc.tuple(fc.constantFrom(...keys), fc.oneof(wildScalar(), fc.jsonValue({ maxDepth: 3 }))).map(([k, x]) => ({ ...v, [k]: x }))
        : fc.constant(v),
      // An inner value replaced (one level down).
      keys.length
        ? fc.tuple(fc.constantFrom(...keys), fc.string({ maxLength: 8 }), wildScalar()).map(([k, ik, x]) => {
            const inner = (v as any)[k];
            return inner && typeof inner === 'object' && !Array.isArray(inner)
              ? { ...v, [k]: { ...inner, [Object.keys(inner)[0] ?? ik]: x } }
              : v;
          })
        : fc.constant(v),
      // A prototype-named or unknown key added.
      fc
        .tuple(fc.constantFrom('constructor', '__proto__', 'toString', 'valueOf', 'extra', 'a\u0000'), wildScalar())
        .map(([k, x]) => ({ ...v, [k]: x })),
    );
  });
  return fc.oneof(
    { weight: 6, arbitrary: mutated.map((v) => (v === undefined ? undefined : JSON.stringify(v))) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{',
        'null',
        '[]',
        '""',
        '{"a":',
        '\u0000',
        '{"volume": {"size": 1, "name": "\\u0000"}}',
        deep(3000),
        `{"volume": ${deep(2000)}}`,
        '{"constructor": {}}',
        '{"__proto__": {"x": 1}}',
        'not json',
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const WILD_QUERY_VALUES = [
  '',
  '-1',
  '0',
  '1',
  '1000000',
  '99999999999999999999',
  'abc',
  '%ff',
  '%00',
  'true',
  'None',
  'name:asc,size:desc',
  'created_at',
  'name:asc,name:desc',
  'constructor',
  '__proto__:asc',
  "{'k': 'v'}",
  '{"k":',
  'x'.repeat(200),
  Array.from({ length: 300 }, (_, i) => ['name:asc', 'size:desc', 'status:asc', 'id:desc'][i % 4]).join(','),
  '11111111-1111-1111-1111-111111111111',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
];
const EXTRA_QUERY_KEYS = [
  'sort',
  'sort_key',
  'sort_dir',
  'limit',
  'marker',
  'offset',
  'all_tenants',
  'with_count',
  'name',
  'status',
  'metadata',
  'id',
  'size_min',
  'size_max',
  'visibility',
  'tag',
  'constructor',
  '__proto__',
  'name~',
  'created_at',
  'changes-since',
];

const enc = (s: string) => (/%/.test(s) ? s : encodeURIComponent(s)); // wild values given percent-encoded stay so

function queryArb(op: Operation, ids: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const value = fc.oneof(fc.constantFrom(...WILD_QUERY_VALUES), ids, fc.string({ maxLength: 10 }));
  const declared = op.query.map((q) => fc.option(fc.tuple(fc.constant(q.name), value), { nil: undefined, freq: 2 }));
  const extra = fc.array(fc.tuple(fc.constantFrom(...EXTRA_QUERY_KEYS), value), { maxLength: 3 });
  return fc.tuple(fc.tuple(...declared), extra).map(([d, e]) => {
    const pairs = [...d.filter((x): x is [string, string] => x !== undefined), ...e];
    return pairs.length ? '?' + pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') : '';
  });
}

const WILD_IDS = [
  '%ff',
  '%00',
  '%E2%82',
  'constructor',
  '__proto__',
  '..',
  'x'.repeat(300),
  '------------------------------------',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  'é',
  'default',
  '0',
  '-1',
  'detail',
  '11111111111111111111111111111111',
  '%20',
];

export interface FuzzContext {
  readonly project: string;
  readonly token: string;
  /** Ids of real resources (volumes, snapshots, types, images, servers, …) to aim path ids and references at. */
  readonly ids: readonly string[];
}

export function requestArb(ops: Operation[], ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const ids = fc.constantFrom(...ctx.ids);
  const pathId = fc.oneof(
    { weight: 4, arbitrary: ids.map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...WILD_IDS) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent) },
  );
  const versions = fc.constantFrom(
    undefined,
    'volume 3.0',
    'volume 3.70',
    'volume 3.27',
    'volume 3.55',
    'volume latest',
    'volume 3.99',
    'volume 2.0',
    'volume x',
    'compute 2.1',
    'compute 2.89',
    'compute 2.100',
    'compute latest',
  );
  return fc.constantFrom(...ops).chain((op) =>
    fc
      .record({
        ids: fc.tuple(...op.pathParams.map(() => pathId), fc.constant('')),
        query: queryArb(op, ids),
        body: bodyArb(op, ids),
        version: versions,
        method: fc.oneof(
          { weight: 19, arbitrary: fc.constant(op.method) },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') },
        ),
        contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', 'application/octet-stream'),
        token: fc.oneof(
          { weight: 18, arbitrary: fc.constant(ctx.token) },
          { weight: 1, arbitrary: fc.constantFrom('u:ffffffffffffffffffffffffffffffff', 'bad token', ':') },
        ),
        accept: fc.constantFrom('application/json', 'application/json', 'text/plain'),
      })
      .map((r) => {
        let i = 0;
        const p = op.template.replace(/\{[^}]+\}/g, () => r.ids[i++]!);
        const prefix = op.api === 'volume' ? `/v3/${ctx.project}` : op.api === 'compute' ? `/v2.1/${ctx.project}` : '/v2';
        const headers: Record<string, string> = { 'X-Auth-Token': r.token, 'Content-Type': r.contentType, Accept: r.accept };
        if (r.version) headers['OpenStack-API-Version'] = r.version;
        const method = r.method;
        const body = method === 'GET' || r.body === undefined ? undefined : r.body; // fetch sends no body with a GET
        const req: FuzzRequest = { op, method, url: prefix + p + r.query, headers, ...(body !== undefined ? { body } : {}) };
        // fast-check prints counterexamples with this: the request, not the whole document.
        Object.defineProperty(req, fc.toStringMethod, {
          value: () => `${method} ${req.url} ${JSON.stringify(headers)} ${body?.slice(0, 300) ?? ''}`,
        });
        return req;
      }),
  );
}

/** Whether a 4xx answer has the shape its API gives: Cinder's/Nova's fault (or webob's 404), Glance's webob error. */
export function errorShapeProblem(
  api: Operation['api'],
  status: number,
  contentType: string,
  text: string,
  accept: string,
): string | undefined {
  if (api === 'image' && !/json/.test(accept)) {
    return text.startsWith(`${status} `) ? undefined : `not Glance's plain-text error: ${text.slice(0, 120)}`;
  }
  if (!/application\/json/.test(contentType)) return `not JSON (${contentType}): ${text.slice(0, 120)}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `unparsable JSON: ${text.slice(0, 120)}`;
  }
  if (body && typeof body.message === 'string' && typeof body.code === 'string' && body.code.startsWith(`${status} `)) return undefined; // webob's
  if (api === 'image') return `not Glance's error: ${text.slice(0, 160)}`;
  const keys = body && typeof body === 'object' ? Object.keys(body) : [];
  const fault = keys.length === 1 ? body[keys[0]!] : undefined;
  if (fault && fault.code === status && typeof fault.message === 'string' && fault.message.length > 0) return undefined;
  return `not a fault envelope: ${text.slice(0, 160)}`;
}

/** SQL statement text or a PostgreSQL error in an answer. */
export const SQL_IN_TEXT =
  /\b(select|insert into|update|delete from)\b.*\b(from|set|values|where) "|syntax error at or near|violates .* constraint|invalid input syntax for type|= \$\d+\b/i;
