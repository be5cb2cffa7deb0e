/** The layers of cairn (README "Architecture", ../shared/DESIGN.md "Layout"), checked by `npm run lint`.
 *  Dependencies point one way: http → services → db → domain; workers → services, db, drivers;
 *  drivers → domain; domain → nothing of cairn's. The composition roots (src/runtime.ts, src/cli)
 *  may import anything. @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes the layers meaningless and the load order fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code (entry points and generated files excepted).',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '^src/cli/(cairn|manage)\\.ts$'] },
      to: {},
    },
    {
      name: 'domain-imports-nothing',
      severity: 'error',
      comment: 'src/domain holds statuses, errors and units: it imports nothing of cairn outside itself.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'db-below-services',
      severity: 'error',
      comment: 'src/db (knex queries, row types) sees only the domain and the configuration.',
      from: { path: '^src/db/' },
      to: { path: '^src/', pathNot: '^src/(db|domain|config)/' },
    },
    {
      name: 'drivers-know-no-database',
      severity: 'error',
      comment: 'Storage drivers see the domain and the configuration, never the database, services or tasks.',
      from: { path: '^src/workers/drivers/' },
      to: { path: '^src/', pathNot: '^src/(workers/drivers|domain|config|metrics)/' },
    },
    {
      name: 'metrics-injected-as-a-type',
      severity: 'error',
      comment: 'Drivers and services are handed a Metrics object; they name its type and import nothing of src/metrics at run time.',
      from: { path: '^src/(workers/drivers|services)/' },
      to: { path: '^src/metrics/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'services-below-http-and-workers',
      severity: 'error',
      comment: 'Services never see requests, replies, transports or task runners.',
      from: { path: '^src/services/' },
      to: { path: '^src/(http|workers|runtime|cli|console|health)' },
    },
    {
      name: 'views-only-shape',
      severity: 'error',
      comment: 'A view shapes rows for the wire: it names service and row types but calls no service and runs no query.',
      from: { path: '^src/http/[^/]+/(views/|views\\.ts$|view\\.ts$)' },
      to: { path: '^src/(services|db)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'http-not-to-workers',
      severity: 'error',
      comment: 'The HTTP layer reaches the workers only through services (task rows).',
      from: { path: '^src/http/' },
      to: { path: '^src/(workers|runtime|cli)' },
    },
    {
      name: 'http-db-row-types-only',
      severity: 'error',
      comment: 'The HTTP layer may name db row types (views shape them) but never runs a query: that is a service\'s job. ' +
        'db/errors.ts is the one exception: a pure classifier of PostgreSQL errors (no query) that the error renderers use.',
      from: { path: '^src/http/' },
      to: { path: '^src/db/', pathNot: '^src/db/errors\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workers-not-to-http',
      severity: 'error',
      comment: 'Workers run tasks through services, db and drivers; they never see the HTTP layer.',
      from: { path: '^src/workers/' },
      to: { path: '^src/(http|runtime|cli|console)' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing fails at run time.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dependencies',
      severity: 'error',
      comment: 'Production code may not need a devDependency (npm ci --omit=dev would break it).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are kept, so that the http → db rule can tell a row type from a query.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.d.ts', '.js', '.json'] },
    cache: false,
  },
};
