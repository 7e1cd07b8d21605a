// Write-behind of stdout/stderr to regular files, /dev/null and pipes (runtime/wasi/output-ring.ts).
// The oracle is the unbuffered path: the same writes made at once, and the same program's run with
// --no-write-behind.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, test } from 'vitest';
import { run } from '../dist/runtime/index.js';
import { CLOCKID, ERRNO, FDFLAGS } from '../runtime/wasi/defs.js';
import { WasiHost } from '../runtime/wasi/host.js';
import { OutputBridge } from '../runtime/wasi/output-bridge.js';
import { newOutputInit, OUTPUT_CAPACITY, outputStream } from '../runtime/wasi/output-ring.js';
import type { MountSpec } from '../runtime/wasi/types.js';
import { EXAMPLES, oracle } from './helpers/examples.js';
import { sharedPipeRecords } from './helpers/pipe-records.js';
import { CACHE_DIR, example, ROOT, tempDir, WMIG } from './helpers/wmig.js';
import { Guest } from './helpers/wasi-guest.js';

const dirs: string[] = [];
const fds: number[] = [];
const hosts: WasiHost[] = [];
const bridges: OutputBridge[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.close();
  for (const b of bridges.splice(0)) b.close();
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A FIFO in a new temp dir, opened for non-blocking reads (the test's end) and for blocking writes. */
function fifoPair() {
  const dir = tempDir();
  dirs.push(dir);
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, 'w');
  fds.push(reader, writer);
  return { fifo, reader, writer };
}

/** A host whose stdout and stderr are one file (opened with `flags`), written behind; plus a mount of its directory. */
function setup(flags = 'w') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-out-'));
  dirs.push(dir);
  const file = path.join(dir, 'out');
  fs.writeFileSync(file, '');
  const fd = fs.openSync(file, flags);
  fds.push(fd);
  const output = newOutputInit(outputStream(fd), outputStream(fd));
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

  it('regular files, /dev/null and pipes are written behind; other devices are not', () => {
    const dir = tempDir();
    dirs.push(dir);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const open = (p: string, flags: string) => {
      const fd = fs.openSync(p, flags);
      fds.push(fd);
      return fd;
    };
    const pipe = open(fifo, 'r+');
    expect(outputStream(pipe)).toEqual({ fd: pipe, pipe: true });
    expect(outputStream(open('/dev/full', 'w'))).toBeUndefined();
    const devNull = open('/dev/null', 'w');
    expect(outputStream(devNull)).toEqual({ fd: devNull, pipe: false });
    const file = open(path.join(dir, 'f'), 'w');
    expect(outputStream(file)).toEqual({ fd: file, pipe: false });
    expect(newOutputInit(outputStream(open('/dev/full', 'w')), undefined)).toBeUndefined();
  });
});

describe('stdout written behind to a pipe', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A FIFO whose reader is the test (non-blocking reads) and whose writer is the guest's stdout, through a bridge. */
  function pipeSetup() {
    const { fifo, reader, writer } = fifoPair();
    const devNull = fs.openSync('/dev/null', 'w');
    fds.push(devNull);
    const stdio = { stdin: 0, stdout: writer, stderr: devNull };
    const bridge = OutputBridge.for(stdio)!;
    bridges.push(bridge);
    const host = new WasiHost({ args: ['prog'], env: [], mounts: [], stdio, output: bridge.init });
    hosts.push(host);
    /** Everything the pipe holds now. */
    const drain = (max = Infinity) => {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const chunk = Buffer.alloc(Math.min(65536, max - total));
        if (chunk.length === 0) break;
        let n: number;
        try {
          n = fs.readSync(reader, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw e;
        }
        if (n === 0) break;
        chunks.push(chunk.subarray(0, n));
        total += n;
      }
      return Buffer.concat(chunks).toString('latin1');
    };
    return { g: new Guest(host), fifo, reader, writer, drain };
  }

  it('a full pipe does not block the main thread: it writes on where it stopped, and the worker writes the rest, each byte once', async () => {
    const { g, fifo, drain } = pipeSetup();
    // Fill the pipe to the brim (whole pages: the kernel cannot merge a later write into them).
    const filler = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fds.push(filler);
    let prefill = '';
    for (let i = 0; ; i++) {
      const page = String.fromCharCode(97 + (i % 26)).repeat(4096);
      try {
        fs.writeSync(filler, page);
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('EAGAIN');
        break;
      }
      prefill += page;
    }
    const small = 'S'.repeat(3000) + '\n';
    const large = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(9, '.') + '\n').join(''); // 10 000 bytes, > PIPE_BUF
    expect(g.write(1, small)).toBe(small.length);
    expect(g.write(1, large)).toBe(large.length);
    // The main thread's write-outs find the pipe full: the event loop runs on (these sleeps end).
    await sleep(30);
    const first = drain(8192); // room for two pages
    expect(first).toBe(prefill.slice(0, 8192));
    await sleep(150); // the main thread's retries: the small record whole, the large one in part
    const second = drain();
    const afterPrefill = second.slice(prefill.length - 8192);
    expect(afterPrefill.startsWith(small), 'the small record came next, whole').toBe(true);
    expect(afterPrefill.length, 'part of the large record').toBeGreaterThan(small.length);
    expect(afterPrefill.length, 'not all of it').toBeLessThan(small.length + large.length);
    // A call the buffer must be written out before: the worker writes the rest (the pipe is empty now).
    g.ok('fd_fdstat_get', 1, 256);
    expect(first + second + drain()).toBe(prefill + small + large);
  });

  it('a line reaches the pipe while the guest writes nothing more, and a closed reader comes back as EPIPE from the next write', async () => {
    const { g, reader, drain } = pipeSetup();
    expect(g.write(1, 'hello\n')).toBe(6);
    const started = Date.now();
    let got = '';
    while (got === '' && Date.now() - started < 5000) {
      await sleep(2);
      got = drain();
    }
    expect(got).toBe('hello\n');
    fs.closeSync(reader);
    fds.splice(fds.indexOf(reader), 1);
    expect(g.write(1, 'lost\n'), 'taken; it fails when written out').toBe(5);
    g.ok('fd_fdstat_get', 1, 256);
    expect(g.write(1, 'x')).toBe(-ERRNO.PIPE);
  });

  it('records of two processes sharing the pipe never interleave inside a record (each under PIPE_BUF)', () => {
    const dir = tempDir();
    dirs.push(dir);
    const got = sharedPipeRecords(dir, true);
    expect(got.A).toBeGreaterThan(100);
    expect(got.B).toBeGreaterThan(100);
    expect(got.split, 'records split by the other writer').toBe(0);
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

  test.each([[[], 2], [['--no-write-behind'], 1]])('wmig run %j: a line reaches a pipe while the guest computes; descriptors on the pipe: %i', async (flags, descriptors) => {
    const { fifo, reader, writer } = fifoPair();
    const spin = path.join(ROOT, 'examples', 'build', 'cpu', 'spin.wasm');
    // spin prints a line, flushes it, then computes for about 10 s without a call.
    const child = spawn(process.execPath, [WMIG, 'run', ...flags, spin, '2000'], {
      stdio: ['ignore', writer, 'inherit'],
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    });
    try {
      const line = Buffer.alloc(100);
      let got = 0;
      for (const started = Date.now(); got === 0 && Date.now() - started < 20_000; await new Promise((r) => setTimeout(r, 5))) {
        try {
          got = fs.readSync(reader, line);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
      }
      expect(line.toString('latin1', 0, got)).toBe('spin: 2000000000 rounds\n');
      expect(child.exitCode, 'still computing').toBeNull();
      // Write-behind gives wmig's main thread a non-blocking descriptor of its own on the pipe.
      const procFds = path.join('/proc', String(child.pid), 'fd');
      const onPipe = fs.readdirSync(procFds).filter((fd) => {
        try {
          return fs.readlinkSync(path.join(procFds, fd)) === fifo;
        } catch {
          return false; // closed meanwhile
        }
      });
      expect(onPipe.length).toBe(descriptors);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  });

  /** `wmig ARGS` with stdout and stderr sent into one file (`>>`: appended), in a shell. */
  const intoFile = (args: string[], file: string) =>
    spawnSync('bash', ['-c', `exec "${process.execPath}" "${WMIG}" "$@" >>"${file}" 2>&1 </dev/null`, 'wmig', ...args], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    }).status;

  test.each(['progress', 'clockrand', 'recursion'])('%s: into a file or a pipe, and into a file frozen and thawed at several calls, the output is the unbuffered run byte for byte', async (name) => {
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
    // The order of stdout and stderr in one stream, every write made at once.
    const uninterrupted = spawnSync('bash', ['-c', `exec "${process.execPath}" "${WMIG}" run --no-write-behind "${example(name)}" 2>&1 </dev/null`], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
      encoding: 'latin1',
    }).stdout;
    expect(uninterrupted.length).toBeGreaterThanOrEqual(expected.stdout.length);
    // Through a pipe, written behind: the same bytes in the same order.
    const piped = path.join(dir, 'piped');
    spawnSync('bash', ['-c', `"${process.execPath}" "${WMIG}" run "${example(name)}" 2>&1 </dev/null | cat >"${piped}"`], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    });
    expect(fs.readFileSync(piped, 'latin1')).toBe(uninterrupted);
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
