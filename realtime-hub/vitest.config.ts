import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.int.test.ts'],
          // A guard against hangs, not a timing goal: under `npm test` every workspace shares two cores.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['src/**/*.int.test.ts'],
          globalSetup: ['src/testing/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
