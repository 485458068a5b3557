import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // End-to-end files each start their own fakes on ephemeral ports, so they can run in parallel.
    pool: 'forks',
  },
});
