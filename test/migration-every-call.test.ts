/**
 * ZDTM-style: every example is frozen before each of its WASI calls (a seeded sample of 200 where it
 * makes more) and thawed in a fresh OS process. The oracle is the same program's uninterrupted run:
 * stdout, stderr, exit status and the files it leaves must be byte-identical.
 */
import { describe, expect, test } from 'vitest';
import { EXAMPLES, oracle } from './helpers/examples.js';
import { freezeThawAt } from './helpers/freeze-thaw.js';
import { pool, samplePoints } from './helpers/wmig.js';

const MAX_POINTS = 200;

describe.each(EXAMPLES)('$name', (c) => {
  test('frozen at every WASI call and thawed in a new process: identical to the uninterrupted run', async () => {
    const expected = await oracle(c);
    expect(expected.callCount).toBeGreaterThan(0);
    const points = samplePoints(expected.callCount, MAX_POINTS, 0x5eed);
    const mismatches: string[] = [];
    await pool(
      points.map((n) => async () => {
        const got = await freezeThawAt(c, n);
        const same =
          got.status === expected.status &&
          got.stdout === expected.stdout.toString('latin1') &&
          got.stderr === expected.stderr.toString('latin1') &&
          JSON.stringify(got.files) === JSON.stringify(expected.files);
        if (!same) mismatches.push(`call ${n}: status ${got.status}, stderr ${JSON.stringify(got.stderr.slice(-300))}`);
      }),
    );
    expect(mismatches).toEqual([]);
  });
});
