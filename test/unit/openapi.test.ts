import { loadOpenApi } from '../../src/http/cinder/app';
import { buildRoutes } from '../../src/http/cinder/routes';
import { loadConfig } from '../../src/config';

/** The OpenAPI document is the one source of the HTTP surface: every operation has a handler and vice versa. */
describe('OpenAPI document', () => {
  const doc = loadOpenApi() as any;
  const operationIds: string[] = [];
  for (const item of Object.values<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (['get', 'put', 'post', 'delete', 'patch'].includes(method)) operationIds.push(op.operationId);
    }
  }
  const routes = buildRoutes({ db: {} as any, config: loadConfig({}), notifier: { tasksWritten: () => undefined } });

  it('names each operation once', () => {
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('binds a handler to every operationId, and has no handler without an operation', () => {
    expect(operationIds.filter((id) => !routes[id])).toEqual([]);
    expect(Object.keys(routes).filter((id) => !operationIds.includes(id))).toEqual([]);
  });
});
