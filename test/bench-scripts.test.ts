/** The benchmark scripts are not run by the test suite (they take minutes and want a quiet machine), so at least each must parse. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers/wmig.js';

const scripts = ['bench', 'bench/lib'].flatMap((dir) =>
  readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.js')).map((f) => join(dir, f)),
);

describe('benchmark scripts', () => {
  test.each(scripts)('%s parses', (script) => {
    expect(() => execFileSync(process.execPath, ['--check', join(ROOT, script)], { stdio: 'pipe' })).not.toThrow();
  });
});
