import { defineConfig } from 'vitest/config';

/**
 * The real-programs tier (`npm run test:real`, .ci/run-real): off-the-shelf programs built by
 * scripts/build-real-programs.sh, migrated mid-run. One file at a time: each pools its own freeze/thaw
 * processes across the 2 cores. The first run instruments each module (yosys: 4–10 min with wasm-opt; the others seconds), then cached.
 */
export default defineConfig({
  test: {
    include: ['test-real/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 1_200_000,
    hookTimeout: 600_000,
  },
});
