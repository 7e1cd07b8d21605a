/**
 * Lua 5.4.4 (Debian's source, unmodified; setjmp/longjmp through wmig's setjmp.h) running
 * test-real/fixtures/workload.lua: records read from stdin through coroutine generators, errors
 * raised and caught (error, pcall, xpcall, nested and rethrown, yields across pcall, errors inside
 * coroutines), a file written on a mounted directory, and some computation. Every pcall and every
 * coroutine resume is a setjmp, every error a longjmp, so frozen runs are frozen inside protected
 * calls and take longjmps after the thaw. Native lua5.4 must print the same and write the same file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ExitCode } from '../dist/runtime/index.js';
import { ROOT, removeDir, tempDir, wmig } from '../test/helpers/wmig.js';
import { difference, migrateEverywhere, native, oracle, readTree, realModule, requireModules, type RealCase } from './helpers.js';
import { luaRecords } from './inputs.js';

const SCRIPT = readFileSync(join(ROOT, 'test-real', 'fixtures', 'workload.lua'));

const STDIN = luaRecords(20_000);
const CASE: RealCase = {
  name: 'lua workload',
  module: 'lua',
  args: ['/data/workload.lua', '/data/out.txt'],
  stdin: STDIN,
  files: { 'workload.lua': SCRIPT },
};

/** Native lua5.4 on the same script and input, in a directory of its own. */
function nativeRun(): { stdout: Buffer; out: Buffer } {
  const dir = tempDir('wmig-lua-native-');
  try {
    native('cp', [join(ROOT, 'test-real', 'fixtures', 'workload.lua'), dir]);
    const r = native('lua5.4', ['workload.lua', 'out.txt'], STDIN, dir);
    expect(r.status, r.stderr.toString()).toBe(0);
    return { stdout: r.stdout, out: readFileSync(join(dir, 'out.txt')) };
  } finally {
    removeDir(dir);
  }
}

beforeAll(() => requireModules('lua'));

describe('lua', () => {
  test('workload.lua: same report and file as native lua5.4; frozen at seeded calls, identical after thaw', async () => {
    const expected = await oracle(CASE);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    const reference = nativeRun();
    expect(expected.stdout.toString()).toBe(reference.stdout.toString());
    expect(expected.files['out.txt']!.equals(reference.out)).toBe(true);
    // The script's own tallies: errors of every kind were raised and caught.
    for (const kind of ['negative', 'price', 'runtime', 'syntax']) expect(expected.stdout.toString()).toMatch(new RegExp(`errors\t${kind}\t[1-9]`));
    expect(expected.stdout.toString()).toContain('co\tfalse\tworkload.lua:91: boom x\tdead');
    await migrateEverywhere(CASE, expected);
  });

  test('with --preempt, frozen by time inside computation (no WASI call), identical after thaw', async () => {
    const expected = await oracle(CASE);
    const work = tempDir('wmig-lua-preempt-');
    try {
      const source = join(work, 'source');
      const destination = join(work, 'destination');
      const snapshot = join(work, 'frozen.wmig');
      native('mkdir', ['-p', destination]);
      // Most of the run is the interpreter between WASI calls, so a freeze requested at some time
      // lands at a preemption point; should it hit a WASI call instead, or the run end first, ask
      // again at another time. The record pipeline's coroutines run inside protected calls
      // (lua_resume's setjmp), so the frozen stack goes through invokes.
      type Inspected = { pendingImport: string; host: { handles: { fd: number; kind: string; offset: number }[] } };
      let frozen: Awaited<ReturnType<typeof wmig>> | undefined;
      let inspected: Inspected | undefined;
      for (const ms of [400, 250, 150, 100]) {
        removeDir(source);
        native('mkdir', ['-p', source]);
        native('cp', [join(ROOT, 'test-real', 'fixtures', 'workload.lua'), source]);
        frozen = await wmig(
          ['run', '--preempt', '--dir', `${source}::/data`, '--freeze-after', String(ms), '--snapshot', snapshot, realModule('lua'), ...CASE.args],
          { stdin: STDIN },
        );
        if (frozen.status === 0) continue; // finished before the request
        expect(frozen.status, frozen.stderr.toString()).toBe(ExitCode.FROZEN);
        inspected = JSON.parse((await wmig(['inspect', '--json', snapshot])).stdout.toString()) as Inspected;
        if (inspected.pendingImport === 'wmig.preempt') break;
      }
      expect(inspected?.pendingImport).toBe('wmig.preempt');
      const consumed = inspected!.host.handles.find((h) => h.fd === 0 && h.kind === 'stdio')?.offset ?? 0;
      native('cp', ['-a', `${source}/.`, destination]);
      const thawed = await wmig(['thaw', '--dir', `${destination}::/data`, snapshot], { stdin: STDIN.subarray(consumed) });
      const combined = {
        status: thawed.status,
        stdout: Buffer.concat([frozen!.stdout, thawed.stdout]),
        stderr: Buffer.concat([frozen!.stderr, thawed.stderr]),
        files: readTree(destination),
      };
      expect(difference(expected, combined)).toBe('');
    } finally {
      removeDir(work);
    }
  });
});
