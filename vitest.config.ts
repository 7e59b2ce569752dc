import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One real Synapse per run, shared by all test files (see test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
