import { defineConfig } from 'vitest/config';

// Its own config, so vitest does not load vite.config.ts (the React Router plugin is for builds only).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.e2e.test.ts'],
          // A guard against hangs, not a timing goal: under `npm test` every workspace shares two cores.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e/globalSetup.ts'],
          // One file at a time: each starts every service and a browser, on a machine of two cores.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 240_000,
          // A page waits on real services (scrypt sign-ins, projections) on a busy machine: not one second.
          expect: { poll: { timeout: 20_000, interval: 100 } },
        },
      },
    ],
  },
});
