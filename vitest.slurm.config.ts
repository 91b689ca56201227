import { defineConfig } from 'vitest/config';

// `npm run test:slurm` (scripts/test-slurm.sh): the Slurm scenarios need the local cluster of
// scripts/slurm-local.sh, so they are not part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/slurm/**/*.slurm-test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // temporary directories: as in vitest.config.ts
    globalSetup: ['test/helpers/temp-dir-guard.ts'],
    setupFiles: ['test/helpers/temp-dir-setup.ts'],
  },
});
