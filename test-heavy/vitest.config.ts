// Heavy suites kept out of `npm test`: run with `npx vitest run --config test-heavy/vitest.config.ts`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test-heavy/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 3_600_000,
    hookTimeout: 300_000,
  },
});
