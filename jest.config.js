/**
 * Two projects: `unit` (specs beside the code, no services needed) and
 * `integration` (test/, against the real PostgreSQL, Redis and RabbitMQ; see
 * test/support/global-setup.ts for what happens when one is missing).
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];

module.exports = {
  // Integration cases wait for real brokers; each waits on conditions with its own, shorter deadline.
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
