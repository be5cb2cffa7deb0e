import Ajv, { type AnySchema } from 'ajv';
import { cinderValidationMessage, pyRepr, pyStr } from '../../src/http/shared/validationMessage';

const size = { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 };
const createVolume = {
  type: 'object',
  required: ['volume'],
  additionalProperties: false,
  properties: {
    volume: {
      type: 'object',
      additionalProperties: false,
      properties: {
        size,
        name: { type: ['string', 'null'], minLength: 1, maxLength: 5 },
        multiattach: { type: ['boolean', 'null'] },
        metadata: { type: ['object', 'null'], propertyNames: { pattern: '^[a-z]+$' }, additionalProperties: { type: 'string' } },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
        mode: { enum: ['rw', 'ro'] },
      },
    },
    'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'] },
  },
};

function message(schema: AnySchema, body: unknown, ajvOpts: { allErrors?: boolean; verbose?: boolean } = {}): string {
  const ajv = new Ajv({ allErrors: true, strict: false, ...ajvOpts });
  ajv.addFormat('uuid', /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i);
  const validate = ajv.compile(schema);
  expect(validate(body)).toBe(false);
  return cinderValidationMessage(validate.errors ?? [], body);
}

describe('cinderValidationMessage: recorded Cinder responses', () => {
  const recorded: Array<[unknown, string]> = [
    [{ size: 1 }, "'volume' is a required property"],
    [
      { volume: { size: 1, bogus: 1 } },
      "Invalid input for field/attribute volume. Value: {'size': 1, 'bogus': 1}. Additional properties are not allowed ('bogus' was unexpected)",
    ],
    [{ volume: { size: 'abc' } }, "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'"],
    [{ volume: { size: 1.5 } }, "Invalid input for field/attribute size. Value: 1.5. 1.5 is not of type 'integer', 'string', 'null'"],
    [{ volume: { size: 0 } }, 'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1'],
  ];

  it.each(recorded)('%j (allErrors: true)', (body, expected) => {
    expect(message(createVolume, body)).toBe(expected);
  });

  it.each(recorded)('%j (allErrors: false)', (body, expected) => {
    expect(message(createVolume, body, { allErrors: false })).toBe(expected);
  });

  it.each(recorded)('%j under the openapi-backend requestBody wrapper', (body, expected) => {
    const wrapped = { type: 'object', required: ['requestBody'], properties: { requestBody: createVolume } };
    const validate = new Ajv({ allErrors: true, strict: false }).compile(wrapped);
    expect(validate({ requestBody: body })).toBe(false);
    expect(validate.errors![0].instancePath.startsWith('/requestBody') || validate.errors![0].instancePath === '').toBe(true);
    expect(cinderValidationMessage(validate.errors!, body)).toBe(expected);
    expect(cinderValidationMessage(validate.errors!, body, { root: '/requestBody' })).toBe(expected);
  });
});

describe('cinderValidationMessage: other jsonschema failures', () => {
  it('reports required on the parent object', () => {
    const schema = { type: 'object', properties: { volume: { type: 'object', required: ['size'] } } };
    expect(message(schema, { volume: {} })).toBe("Invalid input for field/attribute volume. Value: {}. 'size' is a required property");
  });

  it('lists every extra key, sorted, in one error', () => {
    const expected =
      "Invalid input for field/attribute volume. Value: {'size': 1, 'b': 1, 'a': 2}. " +
      "Additional properties are not allowed ('a', 'b' were unexpected)";
    expect(message(createVolume, { volume: { size: 1, b: 1, a: 2 } })).toBe(expected);
    // allErrors:false stops at the first key; the parent schema (verbose) recovers the rest.
    expect(message(createVolume, { volume: { size: 1, b: 1, a: 2 } }, { allErrors: false, verbose: true })).toBe(expected);
  });

  it('prefers the shallowest error, as jsonschema best_match does', () => {
    expect(message(createVolume, { volume: { size: 0 }, bogus: true })).toBe(
      "Additional properties are not allowed ('bogus' was unexpected)",
    );
  });

  it('renders length, enum, array and type failures', () => {
    expect(message(createVolume, { volume: { name: 'toolong' } })).toBe(
      "Invalid input for field/attribute name. Value: toolong. 'toolong' is too long",
    );
    expect(message(createVolume, { volume: { name: '' } })).toBe("Invalid input for field/attribute name. Value: . '' is too short");
    expect(message(createVolume, { volume: { mode: 'x' } })).toBe(
      "Invalid input for field/attribute mode. Value: x. 'x' is not one of ['rw', 'ro']",
    );
    expect(message(createVolume, { volume: { tags: ['a', 'b', 'c'] } })).toBe(
      "Invalid input for field/attribute tags. Value: ['a', 'b', 'c']. ['a', 'b', 'c'] is too long",
    );
    expect(message(createVolume, { volume: { tags: ['a', 7] } })).toBe(
      "Invalid input for field/attribute 1. Value: 7. 7 is not of type 'string'",
    );
    expect(message(createVolume, { volume: { multiattach: 'yes' } })).toBe(
      "Invalid input for field/attribute multiattach. Value: yes. 'yes' is not of type 'boolean', 'null'",
    );
    expect(message(createVolume, { volume: { size: 2147483648 } })).toBe(
      'Invalid input for field/attribute size. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647',
    );
    expect(message(createVolume, { volume: 'x' })).toBe("Invalid input for field/attribute volume. Value: x. 'x' is not of type 'object'");
  });

  it('renders minProperties as the volume service does', () => {
    const schema = { type: 'object', properties: { volume: { type: 'object', minProperties: 1 } } };
    expect(message(schema, { volume: {} })).toBe('Invalid input for field/attribute volume. Value: {}. {} does not have enough properties');
  });

  it('reports a failed anyOf/oneOf itself, as Cinder does, not a branch error', () => {
    const update = {
      type: 'object',
      properties: {
        volume: {
          type: 'object',
          properties: { name: { type: 'string' }, description: { type: 'string' } },
          anyOf: [{ required: ['name'] }, { required: ['description'] }],
        },
        hint: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'array' }] },
        refHint: { oneOf: [{ $ref: '#/definitions/uuid' }, { $ref: '#/definitions/list' }] },
      },
      definitions: { uuid: { type: 'string', format: 'uuid' }, list: { type: 'array' } },
    };
    expect(message(update, { volume: {} })).toBe(
      'Invalid input for field/attribute volume. Value: {}. {} is not valid under any of the given schemas',
    );
    expect(message(update, { hint: 5 })).toBe(
      'Invalid input for field/attribute hint. Value: 5. 5 is not valid under any of the given schemas',
    );
    expect(message(update, { hint: 'abc' }, { allErrors: false })).toBe(
      "Invalid input for field/attribute hint. Value: abc. 'abc' is not valid under any of the given schemas",
    );
    expect(message(update, { refHint: true })).toBe(
      'Invalid input for field/attribute refHint. Value: True. True is not valid under any of the given schemas',
    );
    const rootAnyOf = {
      anyOf: [{ $ref: '#/definitions/s' }, { $ref: '#/definitions/i' }],
      definitions: { s: { type: 'string' }, i: { type: 'integer' } },
    };
    expect(message(rootAnyOf, true)).toBe('True is not valid under any of the given schemas');
    expect(message(update, { volume: { name: 1 } })).toBe("Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'");
  });

  it('reports bad keys as Cinder patternProperties does', () => {
    expect(message(createVolume, { volume: { metadata: { ok: 'x', 'B!': 'y', C: 'z' } } })).toBe(
      "Invalid input for field/attribute metadata. Value: {'ok': 'x', 'B!': 'y', 'C': 'z'}. " +
        "'B!', 'C' do not match any of the regexes: '^[a-z]+$'",
    );
    expect(message(createVolume, { volume: { metadata: { ok: 1 } } })).toBe(
      "Invalid input for field/attribute ok. Value: 1. 1 is not of type 'string'",
    );
  });

  it('uses the InvalidName text for Cinder name formats', () => {
    const schema = { type: 'object', properties: { group: { type: 'object', properties: { name: { type: 'string', format: 'name' } } } } };
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('name', (s: string) => s.trim().length > 0);
    const validate = ajv.compile(schema);
    for (const [name, reason] of [
      ['  ', 'empty'],
      ['', 'None'],
    ]) {
      const body = { group: { name } };
      expect(validate(body)).toBe(false);
      expect(cinderValidationMessage(validate.errors!, body)).toBe(
        `An invalid 'name' value was provided. The 'name' can not be ${reason}.`,
      );
    }
  });

  it('decodes JSON-pointer escapes in the field name', () => {
    const schema = { type: 'object', properties: { 'a/b~c': { type: 'integer' } } };
    expect(message(schema, { 'a/b~c': 'x' })).toBe("Invalid input for field/attribute a/b~c. Value: x. 'x' is not of type 'integer'");
  });

  it('returns an empty string when there are no errors', () => {
    expect(cinderValidationMessage([], {})).toBe('');
  });
});

describe('pyRepr / pyStr', () => {
  it.each<[unknown, string]>([
    [{ size: 1, bogus: 1 }, "{'size': 1, 'bogus': 1}"],
    [{ a: { b: [1, 'x', null] }, c: {} }, "{'a': {'b': [1, 'x', None]}, 'c': {}}"],
    [['a', 'b'], "['a', 'b']"],
    [[], '[]'],
    [true, 'True'],
    [false, 'False'],
    [null, 'None'],
    ['abc', "'abc'"],
    ["it's", '"it\'s"'],
    ['say "hi"', '\'say "hi"\''],
    ['both \' and "', "'both \\' and \"'"],
    ['back\\slash', "'back\\\\slash'"],
    ['tab\tnew\nline\r', "'tab\\tnew\\nline\\r'"],
    ['\x00\x1f\x7f\x85\xa0', "'\\x00\\x1f\\x7f\\x85\\xa0'"],
    ['café ☃ 日本 😀', "'café ☃ 日本 😀'"],
    ['zero\u200bwidth\u2028', "'zero\\u200bwidth\\u2028'"],
    ['\u{e0001}', "'\\U000e0001'"],
    ['\ud800', "'\\ud800'"],
    [{ "it's": 'ok' }, "{\"it's\": 'ok'}"],
    [1, '1'],
    [-0, '0'],
    [1.5, '1.5'],
    [0.1, '0.1'],
    [1e-4, '0.0001'],
    [1e-5, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e21, '1000000000000000000000'], // a JSON integer literal: Python keeps it an int
    [123456789.125, '123456789.125'],
  ])('pyRepr(%j) is %s', (value, expected) => {
    expect(pyRepr(value)).toBe(expected);
  });

  it('pyStr shows a top-level string bare and everything else as repr', () => {
    expect(pyStr('abc')).toBe('abc');
    expect(pyStr("it's")).toBe("it's");
    expect(pyStr(['abc'])).toBe("['abc']");
    expect(pyStr(null)).toBe('None');
    expect(pyStr({ k: 'v' })).toBe("{'k': 'v'}");
  });
});

describe('errors outside the body', () => {
  it("quote the request's value (its query), not `None`", () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile({
      type: 'object',
      properties: { query: { type: 'object', additionalProperties: false, properties: {} } },
    });
    const request = { query: { tenant_id: 'abc' } };
    expect(validate(request)).toBe(false);
    expect(cinderValidationMessage(validate.errors!, undefined, { root: 'requestBody', request })).toBe(
      "Invalid input for field/attribute query. Value: {'tenant_id': 'abc'}. Additional properties are not allowed ('tenant_id' was unexpected)",
    );
  });
});
