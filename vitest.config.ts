import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes and servers on 127.0.0.1; two cores keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
