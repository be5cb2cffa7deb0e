/** Test tiers (see README): unit and api run everywhere; integration needs
 *  PostgreSQL and RabbitMQ; compat needs the Debian OpenStack clients. */
const tier = (name, extra = {}) => ({
  displayName: name,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // openapi-backend's ref parser ships ESM only; jest (unlike Node 20.19+) cannot require it untransformed.
    '^.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@apidevtools/json-schema-ref-parser/)'],
  testEnvironment: 'node',
  ...extra,
});
module.exports = {
  projects: [tier('unit'), tier('api'), tier('integration'), tier('compat')],
  testTimeout: 60000,
};
