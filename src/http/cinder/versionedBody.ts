import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { badRequest } from '../../domain/errors';
import { atLeast, type ApiVersion } from '../../domain/microversion';
import { cinderValidationMessage } from '../shared/validationMessage';
import { refTarget, valueAt } from '../shared/jsonPath';

/** A schema node of the document (its keywords are read only through `$ref` and `x-from-version`). */
type Schema = Record<string, unknown>;

/** `x-from-version` keys, e.g. `'3.53'`, parsed. */
const parse = (s: string): ApiVersion => {
  const [major, minor] = s.split('.').map(Number);
  return { major: major!, minor: minor! };
};

/**
 * Cinder picks one request schema per microversion range
 * (`@validation.schema(volumes.create_volume_v353, '3.53')`). The OpenAPI
 * document holds the lenient one, which openapi-backend checks at every
 * version, and marks what tightens later on the schema node itself:
 * `x-from-version: {'3.53': {additionalProperties: false}}` merges those
 * keywords into the node from that version on. This builds the schema of the
 * negotiated version and checks the body against it too (only when some
 * overlay applies), with Cinder's messages. `$ref`s resolve within `doc`.
 */
export class VersionedBodies {
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  private readonly compiled = new Map<string, ValidateFunction | null>();
  /** Whether an operation's body schema has any overlay at all (most have none: nothing to do per request). */
  private readonly versioned = new Map<string, boolean>();

  constructor(private readonly doc: unknown) {}

  check(path: string, method: string, body: unknown, v: ApiVersion): void {
    const schema = valueAt(this.doc, ['paths', path, method, 'requestBody', 'content', 'application/json', 'schema']) as Schema | undefined;
    if (!schema) return;
    const op = `${method} ${path}`;
    if (!this.versioned.has(op)) this.versioned.set(op, this.hasOverlay(schema));
    if (!this.versioned.get(op)) return;
    const applied: string[] = [];
    const effective = this.overlay(schema, v, applied, 0);
    if (!applied.length) return;
    const key = `${method} ${path} ${applied.join(',')}`;
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(effective as Schema);
      this.compiled.set(key, validate);
    }
    if (validate && !validate(body)) throw badRequest(cinderValidationMessage(validate.errors ?? [], body));
  }

  private hasOverlay(schema: Schema): boolean {
    const applied: string[] = [];
    this.overlay(schema, { major: 99, minor: 0 }, applied, 0);
    return applied.length > 0;
  }

  private resolve(node: Schema): Schema {
    if (typeof node?.$ref !== 'string') return node;
    const target = refTarget(this.doc, node.$ref) as Schema;
    const { $ref: _ref, ...siblings } = node;
    return { ...this.resolve(target), ...siblings };
  }

  /** A copy of `raw` with every `$ref` resolved and every overlay of a version up to `v` merged. */
  private overlay(raw: unknown, v: ApiVersion, applied: string[], depth: number): unknown {
    if (depth > 32 || raw === null || typeof raw !== 'object') return raw;
    if (Array.isArray(raw)) return raw.map((x) => this.overlay(x, v, applied, depth + 1));
    const node = this.resolve(raw as Schema);
    const out: Schema = {};
    for (const [k, val] of Object.entries(node)) {
      if (k !== 'x-from-version') out[k] = this.overlay(val, v, applied, depth + 1);
    }
    for (const [from, extra] of Object.entries((node['x-from-version'] ?? {}) as Record<string, Schema>)) {
      const f = parse(from);
      if (!atLeast(v, f.major, f.minor)) continue;
      applied.push(from);
      Object.assign(out, this.overlay(extra, v, applied, depth + 1));
    }
    return out;
  }
}
