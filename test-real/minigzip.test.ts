/**
 * zlib 1.2.13's minigzip (Debian's source, unmodified) compressing and decompressing ~3.5 MB through
 * stdin/stdout and through files on a mounted directory, frozen at seeded WASI calls and thawed in a
 * fresh process with /data re-bound elsewhere. Native gzip must agree (decompress our output,
 * produce what we decompress).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { migrateEverywhere, native, oracle, requireModules, type RealCase } from './helpers.js';
import { corpus, noise } from './inputs.js';

const INPUT = Buffer.concat([corpus(3 << 20, 21), noise(512 << 10, 22)]);
const GZIPPED = native('gzip', ['-n', '-c'], INPUT).stdout;

beforeAll(() => requireModules('minigzip'));

describe('minigzip', () => {
  test('minigzip: stdin to stdout; native gzip -d restores the input', async () => {
    const c: RealCase = { name: 'minigzip stdin', module: 'minigzip', args: [], stdin: INPUT };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(native('gzip', ['-dc'], expected.stdout).stdout.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });

  test('minigzip -d: native gzip output on stdin, the input back on stdout', async () => {
    const c: RealCase = { name: 'minigzip -d stdin', module: 'minigzip', args: ['-d'], stdin: GZIPPED };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(expected.stdout.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });

  test('minigzip -9 FILE on a mounted dir: replaces FILE by FILE.gz, which native gzip restores', async () => {
    const c: RealCase = { name: 'minigzip -9 file', module: 'minigzip', args: ['-9', '/data/in.dat'], files: { 'in.dat': INPUT } };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(Object.keys(expected.files)).toEqual(['in.dat.gz']);
    expect(native('gzip', ['-dc'], expected.files['in.dat.gz']).stdout.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });

  test('minigzip -d FILE.gz on a mounted dir: native gzip output back to FILE', async () => {
    const c: RealCase = { name: 'minigzip -d file', module: 'minigzip', args: ['-d', '/data/in.dat.gz'], files: { 'in.dat.gz': GZIPPED } };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(Object.keys(expected.files)).toEqual(['in.dat']);
    expect(expected.files['in.dat']!.equals(INPUT)).toBe(true);
    await migrateEverywhere(c, expected);
  });
});
