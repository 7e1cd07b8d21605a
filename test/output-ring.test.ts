// Write-behind of stdout/stderr to regular files and /dev/null (runtime/wasi/output-ring.ts). The
// oracle is the unbuffered path: the same writes made at once, and the same program's piped run.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, test } from 'vitest';
import { run } from '../dist/runtime/index.js';
import { CLOCKID, ERRNO, FDFLAGS } from '../runtime/wasi/defs.js';
import { WasiHost } from '../runtime/wasi/host.js';
import { deferrable, newOutputInit, OUTPUT_CAPACITY } from '../runtime/wasi/output-ring.js';
import type { MountSpec } from '../runtime/wasi/types.js';
import { EXAMPLES, oracle } from './helpers/examples.js';
import { CACHE_DIR, example, ROOT, tempDir, WMIG } from './helpers/wmig.js';
import { Guest } from './helpers/wasi-guest.js';

const dirs: string[] = [];
const fds: number[] = [];
const hosts: WasiHost[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.close();
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A host whose stdout and stderr are one file (opened with `flags`), written behind; plus a mount of its directory. */
function setup(flags = 'w') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-out-'));
  dirs.push(dir);
  const file = path.join(dir, 'out');
  fs.writeFileSync(file, '');
  const fd = fs.openSync(file, flags);
  fds.push(fd);
  const output = newOutputInit(fd, fd);
  expect(output, 'a regular file is written behind').toBeDefined();
  const mounts: MountSpec[] = [{ guestPath: '/d', kind: 'host', hostPath: dir }];
  const host = new WasiHost({ args: ['prog'], env: [], mounts, stdio: { stdin: 0, stdout: fd, stderr: fd }, output });
  hosts.push(host);
  return { g: new Guest(host), host, contents: () => fs.readFileSync(file, 'latin1') };
}

describe('stdout and stderr written behind, in the worker', () => {
  it('keeps the order of stdout and stderr, and writes out before a call that could see the file, not before a clock read', () => {
    const { g, contents } = setup();
    expect(g.write(1, 'out1 ')).toBe(5);
    expect(g.write(2, 'err ')).toBe(4);
    expect(g.write(1, 'out2')).toBe(4);
    g.ok('clock_time_get', CLOCKID.MONOTONIC, 1n, 16);
    expect(contents(), 'deferred').toBe('');
    g.ok('fd_fdstat_get', 1, 16);
    expect(contents()).toBe('out1 err out2');
  });

  it('a write to another file comes after the stdout bytes written before it', () => {
    const { g, contents } = setup('a');
    g.write(1, 'stdout first;');
    const fd = g.open(3, 'out', 0, { fdflags: FDFLAGS.APPEND });
    g.write(fd, 'file second;');
    g.write(2, 'stderr third');
    g.ok('fd_close', fd);
    expect(contents()).toBe('stdout first;file second;stderr third');
  });

  it('more than the buffer holds, and writes larger than half of it, arrive whole and in order', () => {
    const { g, host, contents } = setup();
    let expected = '';
    const big = 'B'.repeat(OUTPUT_CAPACITY / 2 + 1);
    for (let i = 0; i < 200; i++) {
      const line = `line ${i} ${'x'.repeat(i * 7)}\n`;
      expect(g.write(i % 3 === 0 ? 2 : 1, line)).toBe(line.length);
      expected += line;
      if (i === 150) {
        expect(g.write(1, big)).toBe(big.length);
        expected += big;
      }
    }
    host.close();
    expect(contents()).toBe(expected);
  });

  it('a capture writes everything out first', () => {
    const { g, host, contents } = setup();
    g.write(1, 'before the snapshot');
    host.capture();
    expect(contents()).toBe('before the snapshot');
  });

  it('a failed deferred write is returned once by the next fd_write, or by fd_close', () => {
    // A regular file opened read-only: every write to it fails with EBADF (node:wasi: at once).
    const { g } = setup('r');
    expect(g.write(1, 'lost')).toBe(4); // taken; it fails when written out
    g.ok('fd_fdstat_get', 1, 16); // writes it out: the failure is kept for stdout
    expect(g.write(1, 'x')).toBe(-ERRNO.BADF);
    expect(g.write(1, 'y')).toBe(1);
    expect(g.write(2, 'z')).toBe(1);
    expect(g.call('fd_close', 2)).toBe(ERRNO.BADF);
    expect(g.call('fd_fdstat_get', 2, 16), 'closed all the same').toBe(ERRNO.BADF);
  });

  it('only regular files and /dev/null are written behind: not pipes, terminals or other devices', () => {
    const dir = tempDir();
    dirs.push(dir);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const open = (p: string, flags: string) => {
      const fd = fs.openSync(p, flags);
      fds.push(fd);
      return fd;
    };
    expect(deferrable(open(fifo, 'r+'))).toBe(false);
    expect(deferrable(open('/dev/full', 'w'))).toBe(false);
    expect(deferrable(open('/dev/null', 'w'))).toBe(true);
    expect(deferrable(open(path.join(dir, 'f'), 'w'))).toBe(true);
    expect(newOutputInit(open(fifo, 'r+'), open('/dev/full', 'w'))).toBeUndefined();
  });
});

describe('stdout and stderr written behind, in a process', () => {
  it('a line reaches its file within milliseconds while the guest computes without making a call', async () => {
    const spin = path.join(ROOT, 'examples', 'build', 'cpu', 'spin.wasm');
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'out');
    const fd = fs.openSync(file, 'w');
    fds.push(fd);
    // spin prints a line, flushes it, then computes for about 10 s (1 s per 200 million rounds).
    const proc = await run(spin, { args: ['2000'], stdio: { stdin: 0, stdout: fd, stderr: 2 }, cacheDir: CACHE_DIR });
    try {
      const started = Date.now();
      while (fs.readFileSync(file, 'latin1') === '' && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 5));
      expect(fs.readFileSync(file, 'latin1')).toBe('spin: 2000000000 rounds\n');
      expect(proc.state, 'the guest is still computing').toBe('running');
    } finally {
      await proc.kill();
    }
  });

  /** `wmig ARGS` with stdout and stderr sent into one file (`>>`: appended), in a shell. */
  const intoFile = (args: string[], file: string) =>
    spawnSync('bash', ['-c', `exec "${process.execPath}" "${WMIG}" "$@" >>"${file}" 2>&1 </dev/null`, 'wmig', ...args], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    }).status;

  test.each(['progress', 'clockrand', 'recursion'])('%s: into a file, frozen and thawed at several calls, the file is the piped run byte for byte', async (name) => {
    const c = EXAMPLES.find((e) => e.name === name)!;
    const expected = await oracle(c);
    const dir = tempDir();
    dirs.push(dir);
    // stdout alone into a file is the piped stdout; with stderr in the same file, the order of the two holds.
    const alone = path.join(dir, 'alone');
    spawnSync('bash', ['-c', `exec "${process.execPath}" "${WMIG}" run "${example(name)}" >"${alone}" 2>/dev/null </dev/null`], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    });
    expect(fs.readFileSync(alone, 'latin1')).toBe(expected.stdout.toString('latin1'));
    // The order of stdout and stderr in one file: as through one pipe, written at once.
    const piped = path.join(dir, 'piped');
    spawnSync('bash', ['-c', `"${process.execPath}" "${WMIG}" run "${example(name)}" 2>&1 </dev/null | cat >"${piped}"`], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    });
    const uninterrupted = fs.readFileSync(piped, 'latin1');
    const merged = path.join(dir, 'merged');
    expect(intoFile(['run', example(name)], merged)).toBe(expected.status);
    expect(fs.readFileSync(merged, 'latin1')).toBe(uninterrupted);
    for (const at of [2, Math.floor(expected.callCount / 2), expected.callCount - 1]) {
      const file = path.join(dir, `frozen-${at}`);
      const snapshot = path.join(dir, `s${at}.wmig`);
      expect(intoFile(['run', '--freeze-at-call', String(at), '--snapshot', snapshot, example(name)], file), `freeze at ${at}`).toBe(75);
      expect(intoFile(['thaw', snapshot], file)).toBe(expected.status);
      expect(fs.readFileSync(file, 'latin1'), `frozen at call ${at}`).toBe(uninterrupted);
    }
  });
});
