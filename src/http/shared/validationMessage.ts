import type { ErrorObject } from 'ajv';

// Cinder (cinder/api/validation/validators.py) answers a schema failure with jsonschema's Draft 4
// message (pre-4.21 wording), prefixed with the failing key and str() of its value unless it is the body.
type Err = ErrorObject & { propertyName?: string };
type Params = Record<string, unknown>;

const WEAK = new Set(['anyOf', 'oneOf']);
const TAIL: Record<string, string> = {
  minLength: 'is too short',
  maxLength: 'is too long',
  minItems: 'is too short',
  maxItems: 'is too long',
  minProperties: 'does not have enough properties',
  maxProperties: 'has too many properties',
  uniqueItems: 'has non-unique elements',
};
const CMP: Record<string, string> = {
  '>=': 'less than the minimum',
  '>': 'less than or equal to the minimum',
  '<=': 'greater than the maximum',
  '<': 'greater than or equal to the maximum',
};

export function cinderValidationMessage(
  errors: ErrorObject[],
  body: unknown,
  opts: { root?: string; request?: Readonly<Record<string, unknown>> } = {},
): string {
  const root = '/' + (opts.root ?? 'requestBody').replace(/^\/+|\/+$/g, '');
  const inRoot = (p: string) => p === root || p.startsWith(root + '/');
  // Under an OpenAPI wrapper, query/path errors are not about the body: their values are the request's
  // (`opts.request`: {query, params, …}), so the text quotes what was sent, not `None`.
  const bodyErrors = errors.some((e) => inRoot(e.instancePath));
  if (!bodyErrors && opts.request) body = opts.request;
  const all = (
    bodyErrors
      ? errors.filter((e) => inRoot(e.instancePath)).map((e) => ({ ...e, instancePath: e.instancePath.slice(root.length) }))
      : errors
  ) as Err[];

  // ajv lists an anyOf/oneOf/propertyNames failure's branch errors just before it; jsonschema keeps
  // them in `context`, and Cinder raises the top-level error without descending into them.
  const skip = new Set<Err>();
  const inner = new Map<Err, Err[]>();
  all.forEach((w, i) => {
    if (!WEAK.has(w.keyword) && w.keyword !== 'propertyNames') return;
    const parent = w.schemaPath.slice(0, w.schemaPath.lastIndexOf('/') + 1);
    for (let j = i - 1; j >= 0; j--) {
      const e = all[j];
      if (!(e.instancePath + '/').startsWith(w.instancePath + '/')) break;
      // A keyword beside the wrapper (type, enum...) ends the run; $ref'd branches live elsewhere.
      if (e.schemaPath.startsWith(parent) && !e.schemaPath.slice(parent.length).includes('/')) break;
      if (w.keyword === 'propertyNames' && e.propertyName !== w.params.propertyName) break;
      skip.add(e);
      inner.set(w, [e, ...(inner.get(w) ?? [])]);
    }
  });
  const cands = all.filter((e) => !skip.has(e) && e.keyword !== 'if'); // draft 4 has no if/then wrapper
  if (!cands.length) return all[0] ? (all[0].message ?? 'Invalid input') : '';

  // best_match's relevance: shallowest instance first, anyOf/oneOf lose ties, then ajv's order.
  const rank = (e: Err) => pointer(e.instancePath).length * 2 + (WEAK.has(e.keyword) ? 1 : 0);
  const best = cands.reduce((a, e) => (rank(e) < rank(a) ? e : a));
  const path = pointer(best.instancePath);
  const value = path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Params)[k] : undefined), body);
  // jsonschema reports all extra keys of one object in a single error.
  const same = cands.filter((e) => e.keyword === best.keyword && e.instancePath === best.instancePath && e.schemaPath === best.schemaPath);
  // Cinder's 'name' format checker raises InvalidName, whose text replaces the whole detail.
  if (
    best.keyword === 'format' &&
    /^name(_skip_leading_trailing_spaces)?$/.test(best.params.format) &&
    typeof value === 'string' &&
    !value.trim()
  ) {
    return `An invalid 'name' value was provided. The 'name' can not be ${value ? 'empty' : 'None'}.`;
  }
  const msg =
    best.keyword === 'additionalProperties' || best.keyword === 'propertyNames'
      ? extraKeys(best, same, value, inner)
      : describe(best, value);
  return path.length ? `Invalid input for field/attribute ${path[path.length - 1]}. Value: ${pyStr(value)}. ${msg}` : msg;
}

function pointer(p: string): string[] {
  return p
    ? p
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    : [];
}

function extraKeys(best: Err, same: Err[], value: unknown, inner: Map<Err, Err[]>): string {
  const ps = (best.parentSchema ?? {}) as Params;
  const obj = (value ?? {}) as Params;
  let patterns: string[] = Object.keys(ps.patternProperties ?? {});
  let names: string[];
  if (best.keyword === 'propertyNames') {
    // Cinder spells key rules as patternProperties, so a bad key is a regex mismatch when we know the regex.
    const why = same.map((e) => (inner.get(e) ?? []).find((i) => i.keyword === 'pattern'));
    if (why.some((e) => !e)) return describe(inner.get(best)?.[0] ?? best, best.params.propertyName);
    patterns = [...new Set(why.map((e) => String(e!.params.pattern)))];
    names = same.map((e) => String(e.params.propertyName));
  } else if (ps.properties || ps.patternProperties) {
    // verbose: recover keys allErrors:false left out
    names = Object.keys(obj).filter(
      (k) => !Object.prototype.hasOwnProperty.call(ps.properties ?? {}, k) && !patterns.some((r) => new RegExp(r, 'u').test(k)),
    );
  } else names = same.map((e) => String(e.params.additionalProperty));
  names = [...new Set(names)].sort(); // newer jsonschema sorts; older ones used set order
  const list = names.map((x) => pyRepr(x)).join(', ');
  const one = names.length === 1;
  return patterns.length
    ? `${list} ${one ? 'does' : 'do'} not match any of the regexes: ${patterns
        .sort()
        .map((x) => pyRepr(x))
        .join(', ')}`
    : `Additional properties are not allowed (${list} ${one ? 'was' : 'were'} unexpected)`;
}

function describe(e: Err, v: unknown): string {
  const p = e.params as Params;
  const r = pyRepr(v);
  if (e.keyword in TAIL) return `${r} ${TAIL[e.keyword]}`;
  switch (e.keyword) {
    case 'required':
      return `${pyRepr(p.missingProperty)} is a required property`;
    case 'type':
      return `${r} is not of type ${(Array.isArray(p.type) ? p.type : String(p.type).split(',')).map((x) => pyRepr(x)).join(', ')}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${r} is ${CMP[p.comparison as string]} of ${pyRepr(p.limit)}`;
    case 'multipleOf':
      return `${r} is not a multiple of ${pyRepr(p.multipleOf)}`;
    case 'pattern':
      return `${r} does not match ${pyRepr(p.pattern)}`;
    case 'format':
      return `${r} is not a ${pyRepr(p.format)}`;
    case 'enum':
      return `${r} is not one of ${pyRepr(p.allowedValues)}`;
    case 'const':
      return `${pyRepr(p.allowedValue)} was expected`;
    case 'dependencies':
    case 'dependentRequired':
      return `${pyRepr(p.missingProperty)} is a dependency of ${pyRepr(p.property)}`;
    case 'not':
      return `${r} should not be valid under ${e.schema !== undefined ? pyRepr(e.schema) : 'the given schema'}`;
    case 'false schema':
      return `False schema does not allow ${r}`;
    case 'contains':
      return `${r} does not contain items matching the given schema`;
    case 'additionalItems':
    case 'items': {
      const extra = Array.isArray(v) ? v.slice(p.limit as number) : [];
      return `Additional items are not allowed (${extra.map((x) => pyRepr(x)).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`;
    }
    case 'anyOf':
    case 'oneOf': {
      if (!Array.isArray(p.passingSchemas)) return `${r} is not valid under any of the given schemas`;
      const subs = (e.parentSchema as Params | undefined)?.oneOf as unknown[] | undefined;
      const each = subs
        ? [...p.passingSchemas]
            .reverse()
            .map((i: number) => pyRepr(subs[i]))
            .join(', ')
        : 'the given schemas';
      return `${r} is valid under each of ${each}`;
    }
    default:
      return `${r} ${e.message ?? 'is invalid'}`;
  }
}

/** Python `str()`: `repr()` except that a top-level string is shown bare. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** Python 3 `repr()` of a JSON value. Floats that are whole (1.0) print as ints: JS cannot tell them apart. */
export function pyRepr(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNum(value);
  if (typeof value === 'string') return pyStrRepr(value);
  // Depth-bounded: a body nested thousands deep renders its top, not a stack overflow.
  if (typeof value === 'object' && depth >= REPR_DEPTH) return Array.isArray(value) ? '[...]' : '{...}';
  if (Array.isArray(value)) return `[${value.map((v) => pyRepr(v, depth + 1)).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v, depth + 1)}`)
      .join(', ')}}`;
  return String(value);
}

/** How deep pyRepr renders (Python's reprlib stops at 6; Cinder's messages show whole values, which are shallow). */
const REPR_DEPTH = 32;

function pyNum(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString(); // -0 → '0'
  // Python switches to exponent form below 1e-4 (JS only below 1e-6) and pads it to two digits.
  const [mant, exp] = n.toExponential().split('e');
  return Number(exp) < -4 ? `${mant}e-${exp.slice(1).padStart(2, '0')}` : String(n);
}

// Python's str.isprintable(): categories C* and Z* other than the ASCII space are escaped.
const NONPRINTABLE = /[\p{C}\p{Z}]/u;
const ESC: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const hex = (n: number) => c.toString(16).padStart(n, '0');
    if (ch === q) out += '\\' + ch;
    else if (ESC[ch]) out += ESC[ch];
    else if (ch !== ' ' && NONPRINTABLE.test(ch)) out += c < 0x100 ? `\\x${hex(2)}` : c < 0x10000 ? `\\u${hex(4)}` : `\\U${hex(8)}`;
    else out += ch;
  }
  return out + q;
}
