/**
 * bzip2 1.0.8 (Debian's source, unmodified) compressing and decompressing ~3.5 MB through
 * stdin/stdout and through files on a mounted directory, frozen at seeded WASI calls and thawed in a
 * fresh process with /data re-bound elsewhere. Native bzip2 must agree with every result.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { migrateEverywhere, native, oracle, requireModules, type RealCase } from './helpers.js';
import { corpus, noise } from './inputs.js';

const INPUT = Buffer.concat([corpus(3 << 20, 11), noise(512 << 10, 12)]);
const COMPRESSED = native('bzip2', ['-c'], INPUT).stdout;

beforeAll(() => requireModules('bzip2'));

describe('bzip2', () => {
  test('bzip2 -c: stdin to stdout; identical to native bzip2, which decompresses it', async () => {
    const c: RealCase = { name: 'bzip2 -c stdin', module: 'bzip2', args: ['-c'], stdin: INPUT };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(expected.stdout.equals(COMPRESSED)).toBe(true);
    expect(native('bzip2', ['-dc'], expected.stdout).stdout.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });

  test('bzip2 -dc: native bzip2 output on stdin, the input back on stdout', async () => {
    const c: RealCase = { name: 'bzip2 -dc stdin', module: 'bzip2', args: ['-dc'], stdin: COMPRESSED };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(expected.stdout.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });

  test('bzip2 -k FILE on a mounted dir: writes FILE.bz2, native bzip2 -d restores FILE', async () => {
    const c: RealCase = { name: 'bzip2 -k file', module: 'bzip2', args: ['-k', '/data/in.dat'], files: { 'in.dat': INPUT } };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(Object.keys(expected.files)).toEqual(['in.dat', 'in.dat.bz2']);
    expect(expected.files['in.dat.bz2']!.equals(COMPRESSED)).toBe(true);
    expect(native('bzip2', ['-dc'], expected.files['in.dat.bz2']).stdout.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });

  test('bzip2 -d FILE.bz2 on a mounted dir: writes FILE, removes FILE.bz2', async () => {
    const c: RealCase = { name: 'bzip2 -d file', module: 'bzip2', args: ['-d', '/data/in.dat.bz2'], files: { 'in.dat.bz2': COMPRESSED } };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(Object.keys(expected.files)).toEqual(['in.dat']);
    expect(expected.files['in.dat']!.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });
});
