import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`) builds; Vite would pick the ESM one for our
    // sources while Node loads the CJS one for Pothos and yoga, giving two realms of GraphQL types.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Files run in parallel; each test keeps to its own tenants, so they never collide. Two
    // workers on a 2-core machine: the tests mostly wait on PostgreSQL and the brokers, and the
    // default (cores - 1) would run them one file at a time.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
