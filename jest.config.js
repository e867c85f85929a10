/** One jest run for every workspace: unit tests beside the code, integration tests under test/. */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  testMatch: [
    '<rootDir>/packages/*/src/**/*.test.ts',
    '<rootDir>/services/*/src/**/*.test.ts',
    '<rootDir>/services/*/test/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
  ],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/fast-check-seed.ts'],
  testTimeout: 60_000,
  // Two cores: integration suites each start services and Kafka clients.
  maxWorkers: 2,
};
