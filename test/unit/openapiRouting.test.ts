import OpenAPIBackend, { type Document } from 'openapi-backend';
import { loadOpenApi } from '../../src/http/cinder/app';
import { loadComputeApi } from '../../src/http/nova/app';
import { loadImageApi } from '../../src/http/glance/app';
import { freezeRouting } from '../../src/http/shared/openapiRouting';

/** What a router answers for one request: the operation's id, or the error it throws. */
function outcome(api: OpenAPIBackend, method: string, path: string): string {
  try {
    return api.router.matchOperation({ method, path, headers: {} }, true).operationId ?? '(no id)';
  } catch (err) {
    return (err as Error).message;
  }
}

function backend(definition: Document): OpenAPIBackend {
  const api = new OpenAPIBackend({ definition, quick: true, handlers: {} });
  api.init();
  return api;
}

/** Every template filled in a few ways, its neighbours, and paths no template has. */
function probes(doc: Document): string[] {
  const paths = new Set<string>(['/', '/nope', '/volumes/a/b/c/d', '//volumes', '/volumes//detail']);
  for (const template of Object.keys(doc.paths ?? {})) {
    for (const fill of ['x', 'detail', '123', 'a.b']) {
      const p = template.replace(/\{[^}]+\}/g, fill);
      for (const variant of [p, `${p}/`, `${p}/extra`, p.replace(/\/[^/]+$/, ''), ` ${p} `, `${p}?q=1`]) paths.add(variant);
    }
  }
  return [...paths];
}

describe('freezeRouting: openapi-backend routing, compiled once', () => {
  for (const [name, doc] of [
    ['volume API', loadOpenApi()],
    ['compute API', loadComputeApi()],
    ['image API', loadImageApi()],
  ] as const) {
    it(`routes every probe of the ${name} as openapi-backend's own router does (operation, 404 or 405)`, () => {
      const plain = backend(doc);
      const frozen = backend(doc);
      freezeRouting(frozen);
      const paths = probes(doc);
      const seen = new Set<string>();
      for (const method of ['get', 'post', 'put', 'delete', 'patch', 'GET', 'head']) {
        for (const path of paths) {
          const expected = outcome(plain, method, path);
          seen.add(expected.startsWith('404') || expected.startsWith('405') ? expected.slice(0, 3) : 'operation');
          expect(`${method} ${path} → ${outcome(frozen, method, path)}`).toBe(`${method} ${path} → ${expected}`);
        }
      }
      // The probes reach all three outcomes, so the comparison covers each.
      expect([...seen].sort()).toEqual(['404', '405', 'operation']);
    });
  }

  it('prefers the template with more literal characters, and falls back to a less specific one for other methods', () => {
    const op = (operationId: string) => ({ operationId, responses: { 200: { description: 'ok' } } });
    const doc = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/files/{name}': { get: op('getFile'), delete: op('deleteFile') },
        '/files/{name}.json': { get: op('getJson') },
        '/files/{a}/{b}': { put: op('putPair') },
        '/files/{a}/raw': { get: op('getRaw') },
      },
    } as unknown as Document;
    const plain = backend(doc);
    const frozen = backend(doc);
    freezeRouting(frozen);
    const cases: Array<[string, string, string]> = [
      ['get', '/files/a.json', 'getJson'],
      ['delete', '/files/a.json', 'deleteFile'],
      ['get', '/files/a', 'getFile'],
      ['get', '/files/a/raw', 'getRaw'],
      ['put', '/files/a/raw', 'putPair'],
      ['post', '/files/a', '405'],
      ['get', '/nope', '404'],
    ];
    for (const [method, path, expected] of cases) {
      expect(outcome(frozen, method, path).slice(0, expected.length)).toBe(expected);
      expect(outcome(frozen, method, path)).toBe(outcome(plain, method, path));
    }
  });

  it('compiles no RegExp per request', () => {
    const api = backend(loadOpenApi());
    freezeRouting(api);
    const Original = RegExp;
    let built = 0;
    const counting = function (this: unknown, ...args: ConstructorParameters<typeof RegExp>) {
      built++;
      return new Original(...args);
    };
    (globalThis as { RegExp: unknown }).RegExp = counting;
    try {
      outcome(api, 'get', '/volumes/0c1b2a3d-0000-4000-8000-000000000000');
      outcome(api, 'post', '/volumes/0c1b2a3d-0000-4000-8000-000000000000/action');
    } finally {
      (globalThis as { RegExp: unknown }).RegExp = Original;
    }
    expect(built).toBe(0);
  });
});
