import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // temporary directories: tempDir removes them per test or file; the guard fails a run that leaves any
    globalSetup: ['test/helpers/temp-dir-guard.ts'],
    setupFiles: ['test/helpers/temp-dir-setup.ts'],
  },
});
