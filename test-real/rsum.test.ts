/**
 * rsum (scripts/real/rsum.rs: a std-only sha256sum work-alike built by Debian's rustc) hashing a tree
 * of files on a mounted directory and writing a manifest there, verifying it, and hashing stdin.
 * Frozen at seeded WASI calls and thawed in a fresh process with /data re-bound elsewhere. Native
 * sha256sum must agree.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { migrateEverywhere, native, oracle, requireModules, type RealCase } from './helpers.js';
import { corpus, noise } from './inputs.js';

const TREE: Record<string, Buffer> = {
  'tree/a.txt': corpus(1 << 20, 31),
  'tree/b.bin': noise(1 << 20, 32),
  'tree/sub/c.txt': corpus(700_000, 33),
  'tree/sub/empty': Buffer.alloc(0),
  'tree/sub/deeper/d.bin': noise(300_000, 34),
};

/** sha256sum's lines for TREE, with names as the guest sees them (/data/...), in rsum's walk order. */
function nativeManifest(): string {
  const scratch = mkdtempSync(join(tmpdir(), 'wmig-real-native-'));
  try {
    const names = Object.keys(TREE).sort();
    for (const name of names) {
      mkdirSync(dirname(join(scratch, name)), { recursive: true });
      writeFileSync(join(scratch, name), TREE[name]!);
    }
    const r = native('sha256sum', names, undefined, scratch);
    expect(r.status).toBe(0);
    return r.stdout.toString().replace(/^([0-9a-f]{64})  /gm, '$1  /data/');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

beforeAll(() => requireModules('rsum'));

describe('rsum', () => {
  test('rsum -o MANIFEST DIR: hashes a tree on /data, same lines as native sha256sum', async () => {
    const c: RealCase = { name: 'rsum tree', module: 'rsum', args: ['-o', '/data/MANIFEST', '/data/tree'], files: TREE };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    const manifest = nativeManifest();
    expect(expected.stdout.toString()).toBe(manifest);
    expect(expected.files['MANIFEST']!.toString()).toBe(manifest);
    await migrateEverywhere(c, expected);
  });

  test('rsum -c MANIFEST: verifies a native sha256sum manifest, one file corrupted', async () => {
    const corrupted = Buffer.from(TREE['tree/a.txt']!);
    corrupted[12345] ^= 1;
    const files = { ...TREE, 'tree/a.txt': corrupted, MANIFEST: Buffer.from(nativeManifest()) };
    const c: RealCase = { name: 'rsum -c', module: 'rsum', args: ['-c', '/data/MANIFEST'], files };
    const expected = await oracle(c);
    expect(expected.status).toBe(1);
    expect(expected.stdout.toString()).toContain('/data/tree/a.txt: FAILED\n');
    expect(expected.stdout.toString().match(/: OK$/gm)?.length).toBe(4);
    await migrateEverywhere(c, expected);
  });

  test('rsum -: hashes stdin like sha256sum -', async () => {
    const input = Buffer.concat([corpus(2 << 20, 35), noise(256 << 10, 36)]);
    const c: RealCase = { name: 'rsum stdin', module: 'rsum', args: ['-'], stdin: input };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(expected.stdout.toString()).toBe(native('sha256sum', ['-'], input).stdout.toString());
    await migrateEverywhere(c, expected);
  });
});
