/**
 * Symlinks on in-memory mounts, with a host directory as the oracle: the same WASI calls run on a
 * hostfs mount and on a memfs mount must give the same errno and data, call by call — also when the
 * memfs is captured into a snapshot and restored between two calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERRNO, FILETYPE } from '../runtime/wasi/defs.js';
import { WasiHost } from '../runtime/wasi/host.js';
import type { MountSpec } from '../runtime/wasi/types.js';
import { SYMLINK_SCRIPT, type Step } from './helpers/symlink-script.js';
import { Guest } from './helpers/wasi-guest.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function track(host: WasiHost): WasiHost {
  cleanups.push(() => host.close());
  return host;
}

function guestOn(spec: MountSpec): Guest {
  return new Guest(track(new WasiHost({ args: ['prog'], env: [], mounts: [spec] })));
}

function onHostDir(): [string, unknown][] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-symlinks-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return run(guestOn({ guestPath: '/data', kind: 'host', hostPath: dir }), SYMLINK_SCRIPT);
}

const run = (g: Guest, steps: Step[]): [string, unknown][] => steps.map(([label, step]) => [label, step(g)]);

/** The host as a thaw on another machine would see it: capture, through JSON, restore. */
function migrated(g: Guest): Guest {
  const { host, files } = g.host.capture();
  return new Guest(track(WasiHost.restore(JSON.parse(JSON.stringify(host)), files, {})));
}

describe('symlinks on memfs, with a host directory as the oracle', () => {
  it('every call of the script sees the same errno and data', () => {
    const oracle = onHostDir();
    // The oracle behaves as Linux documents (so agreeing with it means something).
    const seen = (label: string) => oracle.find(([l]) => l === label)?.[1];
    expect(seen('readlink short buffer')).toEqual({ errno: ERRNO.SUCCESS, used: 3, text: 'd/.' });
    expect(seen('lstat lf')).toMatchObject({ errno: ERRNO.SUCCESS, filetype: FILETYPE.SYMBOLIC_LINK, size: 1n });
    expect(seen('open lf {}')).toEqual({ errno: ERRNO.LOOP });
    expect(seen('stat loop-a')).toEqual({ errno: ERRNO.LOOP });
    expect(seen('stat dangling')).toEqual({ errno: ERRNO.NOENT });
    expect(seen('open chain-39 {"follow":true}')).toMatchObject({ errno: ERRNO.SUCCESS, contents: 'data' });
    expect(seen('open chain-40 {"follow":true}')).toEqual({ errno: ERRNO.LOOP });

    expect(run(guestOn({ guestPath: '/data', kind: 'memory' }), SYMLINK_SCRIPT)).toEqual(oracle);
  });

  it('a memfs captured and restored between any two calls continues as if never interrupted', () => {
    const oracle = onHostDir();
    for (let at = 0; at <= SYMLINK_SCRIPT.length; at += 17) {
      const before = guestOn({ guestPath: '/data', kind: 'memory' });
      const first = run(before, SYMLINK_SCRIPT.slice(0, at));
      const rest = run(migrated(before), SYMLINK_SCRIPT.slice(at));
      expect([...first, ...rest], `restored before call ${at}`).toEqual(oracle);
    }
  });

  it('a snapshot with an absolute or empty symlink target is refused as corrupt', () => {
    const g = guestOn({ guestPath: '/m', kind: 'memory' });
    g.ok('path_symlink', ...g.str('t', 2048), 3, ...g.str('l'));
    const { host, files } = g.host.capture();
    const json = JSON.stringify(host);
    expect(json).toContain('"target":"t"');
    for (const bad of ['/etc/passwd', '']) {
      const corrupt = JSON.parse(json.replace('"target":"t"', `"target":${JSON.stringify(bad)}`)) as unknown;
      expect(() => WasiHost.restore(corrupt, files, {})).toThrow(
        expect.objectContaining({ kind: 'CORRUPT_SNAPSHOT', message: expect.stringMatching(/^mount \/m: memfs symlink \d+: bad target$/) }) as unknown as Error,
      );
    }
  });
});
