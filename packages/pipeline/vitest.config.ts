import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // a temp dir of the run's own; the run fails if a test leaves a tinypipe-* folder in it
    globalSetup: ['../../vitest.tmp-setup.ts'],
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
