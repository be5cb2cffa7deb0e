/** Test tiers (see README): unit and api run everywhere; integration needs
 *  PostgreSQL and RabbitMQ; compat needs the Debian OpenStack clients. */
const tier = (name, extra = {}) => ({
  displayName: name,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  ...extra,
});
module.exports = {
  projects: [tier('unit'), tier('api'), tier('integration'), tier('compat')],
  testTimeout: 60000,
};
