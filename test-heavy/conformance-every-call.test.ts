/**
 * Every conformance program frozen before each of its WASI calls (a seeded sample of 200 where it
 * makes more) and thawed in a fresh OS process: still exits as expected with no failing check.
 * Too slow for `npm test` (two processes per call); test/conformance.test.ts samples 3 per program.
 * Run: npx vitest run --config test-heavy/vitest.config.ts
 */
import { describe, expect, test } from 'vitest';
import { PROGRAMS, callCount, checks, short } from '../test/helpers/conformance.js';
import { freezeThawAt } from '../test/helpers/freeze-thaw.js';
import { pool, samplePoints } from '../test/helpers/wmig.js';

describe.each(PROGRAMS.map((c) => [short(c), c] as const))('%s', (_name, c) => {
  test('frozen at every WASI call and thawed in a new process', async () => {
    const total = await callCount(c);
    const bad: string[] = [];
    await pool(samplePoints(total, 200, 0x5eed).map((n) => async () => {
      const got = await freezeThawAt(c, n);
      const failing = checks(got.stdout).fail;
      if (got.status !== c.status || failing.length > 0) bad.push(`call ${n}/${total}: status ${got.status}, ${failing.join('; ')} ${got.stderr.slice(-300)}`);
    }));
    expect(bad).toEqual([]);
  });
});
