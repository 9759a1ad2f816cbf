import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes and servers on 127.0.0.1; two cores keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    // The AWS SDK warns once per process that its 2027 releases need Node 22; the tests run on 20.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
