/**
 * Issue 3, runtime side: blocking calls that give way to a freeze (sleeps, stdin, accept), poll
 * readiness on stdin, deterministic mode, read-only and carried mounts, pre-opened listening sockets
 * (with flow control on sends).
 * Oracle: the uninterrupted run of the same program.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { describeSnapshot, ExitCode, run, thaw, WmigError, type WmigProcess } from '../dist/runtime/index.js';
import { parseDir } from '../dist/runtime/cli/options.js';
import { ERRNO, EVENTTYPE, FDFLAGS, RIFLAGS, RIGHTS, SIZEOF } from '../runtime/wasi/defs.js';
import { WasiHost } from '../runtime/wasi/host.js';
import { RIGHTS_LISTENER, RIGHTS_SOCKET } from '../runtime/wasi/rights.js';
import { SocketBridge } from '../runtime/wasi/socket-bridge.js';
import { SEND_HIGH_WATER } from '../runtime/wasi/sockets.js';
import { StdinBridge } from '../runtime/wasi/stdin-bridge.js';
import { STDIN_TEXT } from './helpers/examples.js';
import { stdinConsumed } from './helpers/freeze-thaw.js';
import { CACHE_DIR, copyDir, dirContents, example, pool, removeDir, tempDir, WMIG, wmig } from './helpers/wmig.js';

const work = tempDir('wmig-runtime-');
afterAll(() => removeDir(work));
let serial = 0;
const fresh = (name: string) => join(work, `${name}-${serial++}`);

/** stdio for in-process runs: stdin from /dev/null, stdout/stderr into files read back by `out()`. */
function stdioFiles() {
  const stdout = fresh('stdout');
  const stderr = fresh('stderr');
  const fds = { stdin: openSync('/dev/null', 'r'), stdout: openSync(stdout, 'w'), stderr: openSync(stderr, 'w') };
  return {
    stdio: fds,
    out: () => readFileSync(stdout, 'latin1'),
    err: () => readFileSync(stderr, 'latin1'),
    close: () => Object.values(fds).forEach((fd) => closeSync(fd)),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('deterministic mode', () => {
  const flags = ['--deterministic', '--seed', '42'];
  test('same output on every run, starting from the fixed clock values', async () => {
    const a = await wmig(['run', ...flags, example('detclock'), '4']);
    const b = await wmig(['run', ...flags, example('detclock'), '4']);
    expect(a.status).toBe(0);
    expect(a.stdout.toString()).toBe(b.stdout.toString());
    expect(a.stdout.toString()).toMatch(/^ 0 mono=0 real=1704067200000001000 rnd=[0-9a-f]{16}\n/);
    const c = await wmig(['run', '--seed', '43', example('detclock'), '4']);
    expect(c.stdout.toString()).not.toBe(a.stdout.toString()); // another seed, other bytes
  });

  test('frozen at every WASI call and thawed in a new process: identical to the uninterrupted run', async () => {
    const expected = await wmig(['run', ...flags, example('detclock'), '4']);
    const snapshotDir = fresh('det');
    mkdirSync(snapshotDir);
    // Calls: detclock makes well under 100; freezing past the last one simply runs to the end.
    const calls = (await run(example('detclock'), { args: ['4'], deterministic: '42', cacheDir: CACHE_DIR, ...quiet() }).then((p) => p.result)) as { callCount: number };
    expect(calls.callCount).toBeGreaterThan(10);
    const mismatches: string[] = [];
    await pool(Array.from({ length: calls.callCount }, (_, i) => async () => {
      const n = i + 1;
      const snapshot = join(snapshotDir, `${n}.wmig`);
      const frozen = await wmig(['run', ...flags, '--freeze-at-call', String(n), '--snapshot', snapshot, example('detclock'), '4']);
      if (frozen.status !== ExitCode.FROZEN) return void mismatches.push(`call ${n}: freeze status ${frozen.status} ${frozen.stderr}`);
      const thawed = await wmig(['thaw', snapshot]);
      const got = Buffer.concat([frozen.stdout, thawed.stdout]).toString();
      if (thawed.status !== 0 || got !== expected.stdout.toString()) mismatches.push(`call ${n}: ${JSON.stringify(got.slice(-200))}`);
    }));
    expect(mismatches).toEqual([]);
  });
});

/** Options that send the guest's stdio to /dev/null (for call counting). */
function quiet() {
  const fd = openSync('/dev/null', 'r+');
  return { stdio: { stdin: fd, stdout: fd, stderr: fd } };
}

describe('a sleeping guest', () => {
  test('freezes mid-sleep and, once thawed, sleeps only the remaining time', async () => {
    const io = stdioFiles();
    try {
      const proc = await run(example('sleeper'), { args: ['1500'], stdio: io.stdio, cacheDir: CACHE_DIR });
      await waitFor(() => io.out().includes('sleeping'));
      await sleep(500);
      const t0 = performance.now();
      const report = await proc.freeze();
      const freezeMs = performance.now() - t0;
      expect(freezeMs).toBeLessThan(900); // the sleep woke up for the freeze
      expect((await proc.result).state).toBe('frozen');
      const t1 = performance.now();
      const thawed = await thaw(report.bytes!, { stdio: io.stdio });
      const result = await thawed.result;
      const restMs = performance.now() - t1;
      expect(result).toMatchObject({ state: 'exited', code: 0 });
      expect(io.out()).toBe('sleeping 1500 ms\nwoke up\n');
      // ~1000 ms were left; a sleep restarted from scratch would take 1500.
      expect(restMs).toBeGreaterThan(700);
      expect(restMs).toBeLessThan(1400);
    } finally {
      io.close();
    }
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 30_000, slow = false): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(slow ? 100 : 10);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('a guest blocked on stdin', () => {
  const expected = () => wmig(['run', example('stdin')], { stdin: STDIN_TEXT });

  /** Runs `command` (a shell line) whose wmig has stdin open and empty; it must freeze on --freeze-after. */
  function frozenWhileBlocked(shell: string | undefined, snapshot: string): Promise<{ status: number; stdout: string; stderr: string }> {
    const args = [WMIG, 'run', '--freeze-after', '400', '--snapshot', snapshot, example('stdin')];
    const child = shell === undefined
      ? spawn(process.execPath, args, { env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR }, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `${shell} | "${process.execPath}" ${args.map((a) => `"${a}"`).join(' ')}`], { env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    return new Promise((resolve) => child.on('close', (status) => {
      child.stdin?.destroy();
      resolve({ status: status ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    }));
  }

  test.each([
    ['a socket (what Node child_process hands out)', undefined],
    ['a pipe (FIFO)', 'sleep 2'],
  ])('stdin is %s: the freeze happens while blocked, nothing consumed; the thaw reads the input', async (_what, shell) => {
    const want = await expected();
    const snapshot = fresh('stdin-snap');
    const frozen = await frozenWhileBlocked(shell, snapshot);
    expect(frozen.status, frozen.stderr).toBe(ExitCode.FROZEN);
    expect(await stdinConsumed(snapshot)).toBe(0);
    const thawed = await wmig(['thaw', snapshot], { stdin: STDIN_TEXT });
    expect(thawed.status).toBe(want.status);
    expect(frozen.stdout + thawed.stdout.toString()).toBe(want.stdout.toString());
  });

  test('a pipe shared by the frozen and the thawed process: the thaw reads on exactly where the guest stopped', async () => {
    // 64-byte lines, one every 150 ms: stdin.wasm reads 64 bytes at a time, so its chunks are the
    // lines however the pipe delivers them, and the frozen run's output plus the thawed run's must
    // be the uninterrupted run's. A byte read ahead and lost at the freeze would shift every chunk.
    // 2.4 s of lines: the freeze (500 ms after wmig starts) comes mid-stream even when wmig takes
    // well over a second to start on a loaded machine (8 lines were too few once in CI).
    const lines = Array.from({ length: 16 }, (_, i) => `line ${i}`.padEnd(63) + '\n');
    const want = await wmig(['run', example('stdin')], { stdin: lines.join('') });
    const snapshot = fresh('shared-pipe');
    const wmigLine = (args: string[]) => [process.execPath, WMIG, ...args].map((a) => `"${a}"`).join(' ');
    const script = `for i in $(seq 0 ${lines.length - 1}); do printf '%-63s\\n' "line $i"; sleep 0.15; done | ` +
      `{ ${wmigLine(['run', '--freeze-after', '500', '--snapshot', snapshot, example('stdin')])}; echo "frozen $?" >&2; ${wmigLine(['thaw', snapshot])}; }`;
    const r = spawnSync('bash', ['-c', script], { env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR }, encoding: 'utf8' });
    expect(r.stderr).toContain(`frozen ${ExitCode.FROZEN}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(want.stdout.toString());
    const consumed = await stdinConsumed(snapshot);
    expect(consumed % 64).toBe(0);
    expect(consumed).toBeLessThan(lines.length * 64); // the freeze came mid-stream
  });

  test('a freeze that leaves a guest blocked on stdin running: it records nothing consumed, and the guest reads on', async () => {
    const fifo = fresh('fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = openSync(fifo, 'r+'); // keeps a writer open, so opening the read end does not block
    const io = stdioFiles();
    const stdin = openSync(fifo, 'r');
    const stdio = { ...io.stdio, stdin };
    try {
      const proc = await run(example('stdin'), { stdio, cacheDir: CACHE_DIR });
      await sleep(300);
      const report = await proc.freeze({ leaveRunning: true });
      const handles = describeSnapshot(report.bytes!).host as { handles: { fd: number; offset: number; pending?: string }[] };
      expect(handles.handles.find((h) => h.fd === 0)).toMatchObject({ offset: 0 });
      expect(handles.handles.find((h) => h.fd === 0)?.pending).toBeUndefined();
      writeSync(writer, 'abc\n');
      await waitFor(() => io.out().includes('chunk 1: 4 bytes'));
      closeSync(writer); // EOF
      expect(await proc.result).toMatchObject({ state: 'exited', code: 0 });
      expect(io.out()).toMatch(/: ABC\\n\neof: 1 chunks, 4 bytes/);
      // The snapshot taken while blocked reads its input from the thawing process's stdin.
      const input = fresh('input');
      writeFileSync(input, 'xyz\n');
      const thawedOut = fresh('thawed-out');
      const fds = { stdin: openSync(input, 'r'), stdout: openSync(thawedOut, 'w'), stderr: openSync('/dev/null', 'w') };
      try {
        const thawed = await thaw(report.bytes!, { stdio: fds });
        expect(await thawed.result).toMatchObject({ state: 'exited', code: 0 });
        expect(readFileSync(thawedOut, 'utf8')).toMatch(/^chunk 1: 4 bytes checksum=[0-9a-f]{8}: XYZ\\n\neof: 1 chunks, 4 bytes/);
      } finally {
        Object.values(fds).forEach((fd) => closeSync(fd));
      }
    } finally {
      closeSync(stdin);
      io.close();
    }
  });

  test('poll_oneoff reports stdin readiness truthfully, and the bytes it saw are read next', async () => {
    const fifo = fresh('fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // O_RDWR on a FIFO does not block on Linux and keeps a writer open (no EOF).
    const fd = openSync(fifo, 'r+');
    // A FIFO is read by the main thread's half of the stdin bridge: here the test's own thread,
    // which answers the host's requests whenever the test awaits.
    const bridge = StdinBridge.for(fd)!;
    expect(bridge).toBeDefined();
    const host = new WasiHost({ args: ['t'], env: [], mounts: [], stdio: { stdin: fd, stdout: 1, stderr: 2 }, stdinBridge: bridge.init });
    const memory = new WebAssembly.Memory({ initial: 1 });
    host.setMemory(memory);
    const dv = new DataView(memory.buffer);
    const call = (name: string, ...a: (number | bigint)[]) => (host.imports[name] as unknown as (...x: (number | bigint)[]) => number)(...a);
    // subscription 0: fd_read on fd 0; subscription 1: a 50 ms relative monotonic clock.
    const sub = 0;
    new Uint8Array(memory.buffer, 0, 2 * SIZEOF.subscription).fill(0);
    dv.setBigUint64(sub, 1n, true);
    dv.setUint8(sub + 8, EVENTTYPE.FD_READ);
    dv.setUint32(sub + 16, 0, true);
    dv.setBigUint64(sub + 48, 2n, true);
    dv.setUint8(sub + 48 + 8, EVENTTYPE.CLOCK);
    dv.setUint32(sub + 48 + 16, 1, true);
    dv.setBigUint64(sub + 48 + 24, 50_000_000n, true);
    const poll = () => {
      expect(call('poll_oneoff', 0, 1024, 2, 2048)).toBe(ERRNO.SUCCESS);
      const n = dv.getUint32(2048, true);
      return Array.from({ length: n }, (_, i) => ({ userdata: dv.getBigUint64(1024 + i * 32, true), nbytes: dv.getBigUint64(1024 + i * 32 + 16, true) }));
    };
    try {
      expect(poll()).toEqual([{ userdata: 2n, nbytes: 0n }]); // nothing to read: only the timer fires
      writeSync(fd, 'hello');
      let events = poll();
      await waitFor(() => (events = poll()).some((e) => e.userdata === 1n));
      expect(events).toEqual([{ userdata: 1n, nbytes: 5n }]);
      // fd_read gets the bytes the readiness check took from the pipe.
      dv.setUint32(3000, 4000, true);
      dv.setUint32(3004, 100, true);
      expect(call('fd_read', 0, 3000, 1, 3008)).toBe(ERRNO.SUCCESS);
      expect(Buffer.from(memory.buffer, 4000, dv.getUint32(3008, true)).toString()).toBe('hello');
      expect(host.stdinOffset).toBe(5);
      // A non-blocking read finds nothing (AGAIN) but leaves its request standing: once the main
      // thread has answered it, the next read gets the bytes asked for; the rest of what the request
      // read ahead waits in `pending` (counted in the offset) for the read after.
      expect(call('fd_fdstat_set_flags', 0, FDFLAGS.NONBLOCK)).toBe(ERRNO.SUCCESS);
      dv.setUint32(3004, 3, true);
      expect(call('fd_read', 0, 3000, 1, 3008)).toBe(ERRNO.AGAIN);
      writeSync(fd, 'abcdef');
      await waitFor(() => call('fd_read', 0, 3000, 1, 3008) === ERRNO.SUCCESS);
      expect(Buffer.from(memory.buffer, 4000, dv.getUint32(3008, true)).toString()).toBe('abc');
      expect(host.stdinOffset).toBe(11);
      expect(call('fd_read', 0, 3000, 1, 3008)).toBe(ERRNO.SUCCESS);
      expect(Buffer.from(memory.buffer, 4000, dv.getUint32(3008, true)).toString()).toBe('def');
      expect(host.stdinOffset).toBe(11);
    } finally {
      host.close();
      bridge.close();
      closeSync(fd);
    }
  });
});

describe('mounts', () => {
  test('--dir parses :ro and :carry suffixes', () => {
    expect(parseDir('/h::/g:ro')).toEqual([{ kind: 'host', hostPath: '/h', guestPath: '/g', readOnly: true }]);
    expect(parseDir('/h::/g:carry')).toEqual([{ kind: 'host', hostPath: '/h', guestPath: '/g', carry: true }]);
    expect(parseDir('/h::/g:ro:carry')).toEqual([{ kind: 'host', hostPath: '/h', guestPath: '/g', readOnly: true, carry: true }]);
    expect(parseDir('/d')).toEqual([{ kind: 'host', hostPath: '/d', guestPath: '/d' }]);
  });

  test('a read-only mount: the guest cannot write (fileio fails), the directory is untouched', async () => {
    const dir = fresh('ro');
    mkdirSync(dir);
    const r = await wmig(['run', '--dir', `${dir}::/data:ro`, example('fileio')]);
    expect(r.status).not.toBe(0);
    expect(dirContents(dir)).toEqual({});
  });

  test('a carried mount travels in the snapshot and is written out on thaw (bound dir or a temp dir)', async () => {
    const source = fresh('carry-src');
    mkdirSync(source);
    writeFileSync(join(source, 'seed.txt'), 'carried along\n');
    // Symlinks travel as links: one to a file, one dangling.
    symlinkSync('seed.txt', join(source, 'seed.link'));
    symlinkSync('gone/nowhere', join(source, 'dangling.link'));
    const oracleDir = fresh('carry-oracle');
    copyDir(source, oracleDir);
    const want = await wmig(['run', '--dir', `${oracleDir}::/data`, example('fileio')]);
    expect(want.status).toBe(0);
    for (const [n, bound] of [[12, true], [25, false]] as const) {
      const src = fresh('carry-run');
      copyDir(source, src);
      const snapshot = fresh('carry-snap');
      const frozen = await wmig(['run', '--dir', `${src}::/data:carry`, '--freeze-at-call', String(n), '--snapshot', snapshot, example('fileio')]);
      expect(frozen.status, frozen.stderr.toString()).toBe(ExitCode.FROZEN);
      removeDir(src); // the source directory is gone: the files must come from the snapshot
      const dest = fresh('carry-dest');
      const thawed = await wmig(['thaw', ...(bound ? ['--dir', `${dest}::/data`] : []), snapshot]);
      expect(thawed.status, thawed.stderr.toString()).toBe(want.status);
      expect(frozen.stdout.toString() + thawed.stdout.toString()).toBe(want.stdout.toString());
      if (bound) {
        expect(dirContents(dest)).toEqual(dirContents(oracleDir));
        expect(dirContents(dest)).toMatchObject({ 'seed.link': 'symlink:seed.txt', 'dangling.link': 'symlink:gone/nowhere' });
      }
      else expect(existsSync(dest)).toBe(false);
    }
  });
});

/** A raw TCP connection to `address`: what has come back so far, and when and with what it ended. */
async function connectRaw(address: string) {
  const socket = net.connect(Number(address.slice(address.lastIndexOf(':') + 1)), address.slice(0, address.lastIndexOf(':')));
  await new Promise((r) => socket.once('connect', r));
  let got = '';
  const conn = {
    socket,
    received: () => got,
    endedAt: 0,
    ended: new Promise<string>((resolve) => {
      socket.on('data', (c) => (got += c));
      socket.on('end', () => {
        conn.endedAt = performance.now();
        resolve(got);
      });
    }),
  };
  return conn;
}

function get(address: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
  });
}

/**
 * Reads bulksend's stream (32-bit little-endian words counting from 0) at about `bytesPerSecond`,
 * pausing the socket to keep to it; resolves at the end with the bytes received and how many words
 * were not where they belong.
 */
function slowReader(port: number, bytesPerSecond: number): Promise<{ bytes: number; misplaced: number }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const start = Date.now();
    let bytes = 0;
    let misplaced = 0;
    let word = 0;
    let carry: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      const b = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = b.length & ~3;
      for (let at = 0; at < whole; at += 4, word++) if (b.readUInt32LE(at) !== word >>> 0) misplaced++;
      carry = b.subarray(whole);
      bytes += chunk.length;
      const ahead = (bytes / bytesPerSecond) * 1000 - (Date.now() - start);
      if (ahead > 0) {
        s.pause();
        setTimeout(() => s.resume(), ahead);
      }
    });
    s.on('end', () => resolve({ bytes, misplaced: misplaced + carry.length }));
    s.on('error', reject);
  });
}

describe('pre-opened listening sockets (--listen)', () => {
  test('httpcounter frozen between connections and thawed on another port keeps counting', async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    let thawed: WmigProcess | undefined;
    try {
      proc = await run(example('httpcounter'), { listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      const [first] = proc.listening;
      expect(first).toMatch(/^127\.0\.0\.1:\d+$/);
      for (let i = 1; i <= 3; i++) expect(await get(first!)).toBe(`request ${i}\n`);
      // An open connection (request not sent yet): the guest is blocked in recv, and the freeze is refused.
      const open = await connectRaw(first!);
      await sleep(100);
      const refused = await proc.freeze().then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(WmigError);
      expect((refused as WmigError).kind).toBe('BUSY');
      expect((refused as WmigError).message).toMatch(/open socket connection/);
      open.socket.write('GET / HTTP/1.0\r\n\r\n');
      expect(await open.ended).toMatch(/request 4\n$/);
      // Between connections (blocked in sock_accept): the freeze happens.
      await sleep(100);
      const report = await proc.freeze();
      expect((await proc.result).state).toBe('frozen');
      thawed = await thaw(report.bytes!, { listen: ['127.0.0.1:0'], stdio: io.stdio });
      const [second] = thawed.listening;
      expect(second).not.toBe(first);
      expect(await get(second!)).toBe('request 5\n');
      expect(await get(second!)).toBe('request 6\n');
      await expect(get(first!)).rejects.toThrow(); // the old address is closed
      // The guest logs a request after closing its connection: give the last line a moment to land.
      const log = `httpcounter: listening on fd 3\n${[1, 2, 3, 4, 5, 6].map((i) => `served request ${i}\n`).join('')}`;
      for (let waited = 0; waited < 2000 && io.out() !== log; waited += 20) await sleep(20);
      expect(io.out()).toBe(log);
    } finally {
      await thawed?.kill();
      await proc?.kill();
      io.close();
    }
  });

  test('a draining freeze waits for the open connection, holds new ones back, and gives up (BUSY) at its deadline', async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    let thawed: WmigProcess | undefined;
    try {
      proc = await run(example('httpcounter'), { listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      const address = proc.listening[0]!;
      expect(await get(address)).toBe('request 1\n');
      const open = await connectRaw(address);
      await sleep(100);
      const freezing = proc.freeze({ drainMs: 20_000, leaveRunning: true });
      let frozenAt = 0;
      void freezing.then(() => (frozenAt = performance.now()), () => {});
      await sleep(100);
      expect(proc.state).toBe('running');
      // A connection that arrives while draining waits: its request is not served before the freeze.
      const held = await connectRaw(address);
      held.socket.write('GET / HTTP/1.0\r\n\r\n');
      await sleep(200);
      expect(held.received()).toBe('');
      open.socket.write('GET / HTTP/1.0\r\n\r\n');
      expect(await open.ended).toMatch(/request 2\n$/);
      const report = await freezing;
      expect(report.leftRunning).toBe(true);
      // Released after the freeze, the held connection is served by the process that goes on.
      expect(await held.ended).toMatch(/request 3\n$/);
      expect(held.endedAt).toBeGreaterThan(frozenAt);
      // The snapshot was taken between request 2 and the held one: a thaw answers request 3 again.
      thawed = await thaw(report.bytes!, { listen: ['127.0.0.1:0'], stdio: io.stdio });
      expect(await get(thawed.listening[0]!)).toBe('request 3\n');
      await thawed.kill();

      // A connection still open at the deadline: the freeze fails BUSY and the process goes on.
      const lingering = await connectRaw(address);
      await sleep(100);
      const refused = await proc.freeze({ drainMs: 300 }).then(() => undefined, (e: unknown) => e);
      expect((refused as WmigError).kind).toBe('BUSY');
      expect((refused as WmigError).message).toMatch(/after draining/);
      expect(proc.state).toBe('running');
      lingering.socket.write('GET / HTTP/1.0\r\n\r\n');
      expect(await lingering.ended).toMatch(/request 4\n$/);
      await expect(proc.freeze({ drainMs: -1 })).rejects.toMatchObject({ kind: 'USAGE' });
    } finally {
      await thawed?.kill();
      await proc?.kill();
      io.close();
    }
  });

  test("a draining freeze gives up at its deadline by the guest thread's clock, even when the deadline's wake comes before it", async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    try {
      proc = await run(example('httpcounter'), { listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      const lingering = await connectRaw(proc.listening[0]!);
      await sleep(100);
      // This thread's clock 200 ms ahead while freeze() sets the deadline: its timer then wakes the
      // blocked guest 200 ms before the deadline by the guest thread's clock, and wakes it once.
      const realNow = performance.now.bind(performance);
      performance.now = () => realNow() + 200;
      let refusing: Promise<unknown>;
      try {
        refusing = proc.freeze({ drainMs: 300 }).then(() => undefined, (e: unknown) => e);
      } finally {
        performance.now = realNow;
      }
      const refused = await Promise.race([refusing, sleep(5000).then(() => 'still draining after 5 s')]);
      expect((refused as WmigError).kind).toBe('BUSY');
      expect(proc.state).toBe('running');
      lingering.socket.write('GET / HTTP/1.0\r\n\r\n');
      expect(await lingering.ended).toMatch(/request 1\n$/);
    } finally {
      await proc?.kill();
      io.close();
    }
  });

  test('poll_oneoff reports listener and connection readiness; accept/recv/send/shutdown on the connection; the rights each needs', async () => {
    const bridge = await SocketBridge.listen(['127.0.0.1:0']);
    const host = new WasiHost({ args: ['t'], env: [], mounts: [], sockets: bridge.init });
    const memory = new WebAssembly.Memory({ initial: 1 });
    host.setMemory(memory);
    const dv = new DataView(memory.buffer);
    const call = (name: string, ...a: (number | bigint)[]) => (host.imports[name] as unknown as (...x: (number | bigint)[]) => number)(...a);
    /** Polls fd for reading (or writing) with a 1 ms timeout; returns the fd event's nbytes, or null if only the timer fired. */
    const readable = (fd: number, type: number = EVENTTYPE.FD_READ): bigint | null => {
      new Uint8Array(memory.buffer, 0, 96).fill(0);
      dv.setBigUint64(0, 1n, true);
      dv.setUint8(8, type);
      dv.setUint32(16, fd, true);
      dv.setBigUint64(48, 2n, true);
      dv.setUint8(56, EVENTTYPE.CLOCK);
      dv.setUint32(64, 1, true);
      dv.setBigUint64(72, 1_000_000n, true);
      expect(call('poll_oneoff', 0, 1024, 2, 2048)).toBe(ERRNO.SUCCESS);
      const fdEvent = Array.from({ length: dv.getUint32(2048, true) }, (_, i) => 1024 + i * 32).find((at) => dv.getBigUint64(at, true) === 1n);
      return fdEvent === undefined ? null : dv.getBigUint64(fdEvent + 16, true);
    };
    const client = net.connect(Number(bridge.addresses[0]!.split(':')[1]), '127.0.0.1');
    try {
      // fd 3 is the listener (no preopens). Nothing is waiting before the connection arrives.
      dv.setUint32(3000, 0, true);
      expect(call('fd_fdstat_get', 3, 3000)).toBe(ERRNO.SUCCESS);
      expect(dv.getUint8(3000)).toBe(6); // SOCKET_STREAM
      expect(call('fd_prestat_get', 3, 3000)).toBe(ERRNO.BADF); // the preopen scan stops before it
      await new Promise((r) => client.once('connect', r));
      await waitFor(() => readable(3) !== null);
      expect(call('sock_accept', 3, 0, 3000)).toBe(ERRNO.SUCCESS);
      const conn = dv.getUint32(3000, true);
      expect(readable(conn)).toBeNull(); // no data yet
      client.write('ping');
      await waitFor(() => readable(conn) !== null);
      expect(readable(conn)).toBe(4n);
      dv.setUint32(3100, 4000, true);
      dv.setUint32(3104, 64, true);
      expect(call('sock_recv', conn, 3100, 1, 0, 3200, 3204)).toBe(ERRNO.SUCCESS);
      expect(Buffer.from(memory.buffer, 4000, dv.getUint32(3200, true)).toString()).toBe('ping');
      // RECV_WAITALL with the whole iovec buffered: all of it in one call. Non-blocking: what is
      // there (fewer bytes), then AGAIN when nothing is.
      const recvAll = () => call('sock_recv', conn, 3100, 1, RIFLAGS.RECV_WAITALL, 3200, 3204);
      client.write('abcd');
      await waitFor(() => readable(conn) === 4n);
      dv.setUint32(3104, 4, true);
      expect(recvAll()).toBe(ERRNO.SUCCESS);
      expect(Buffer.from(memory.buffer, 4000, dv.getUint32(3200, true)).toString()).toBe('abcd');
      client.write('ef');
      await waitFor(() => readable(conn) === 2n);
      expect(call('fd_fdstat_set_flags', conn, FDFLAGS.NONBLOCK)).toBe(ERRNO.SUCCESS);
      expect(recvAll()).toBe(ERRNO.SUCCESS);
      expect(Buffer.from(memory.buffer, 4000, dv.getUint32(3200, true)).toString()).toBe('ef');
      expect(recvAll()).toBe(ERRNO.AGAIN);
      expect(call('fd_fdstat_set_flags', conn, 0)).toBe(ERRNO.SUCCESS);
      const reply = new Promise<string>((resolve) => {
        let got = '';
        client.on('data', (c) => (got += c));
        client.on('end', () => resolve(got));
      });
      new Uint8Array(memory.buffer).set(Buffer.from('pong'), 4000);
      dv.setUint32(3104, 4, true);
      expect(readable(conn, EVENTTYPE.FD_WRITE)).toBe(BigInt(SEND_HIGH_WATER));
      expect(call('sock_send', conn, 3100, 1, 0, 3200)).toBe(ERRNO.SUCCESS);
      // Until the main thread (this one, here) has written them, the 4 bytes take room.
      expect(readable(conn, EVENTTYPE.FD_WRITE)).toBe(BigInt(SEND_HIGH_WATER - 4));
      expect(call('sock_shutdown', conn, 2)).toBe(ERRNO.SUCCESS);
      expect(call('sock_send', conn, 3100, 1, 0, 3200)).toBe(ERRNO.PIPE);
      expect(await reply).toBe('pong');
      expect(call('sock_recv', 3, 3100, 1, 0, 3200, 3204)).toBe(ERRNO.NOTCONN);
      // Each call needs its right (rights.ts NEEDS): without it, NOTCAPABLE.
      expect(call('fd_fdstat_set_rights', conn, RIGHTS_SOCKET & ~(RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.SOCK_SHUTDOWN), 0n)).toBe(ERRNO.SUCCESS);
      expect(call('sock_recv', conn, 3100, 1, 0, 3200, 3204)).toBe(ERRNO.NOTCAPABLE);
      expect(call('sock_send', conn, 3100, 1, 0, 3200)).toBe(ERRNO.NOTCAPABLE);
      expect(call('fd_read', conn, 3100, 1, 3200)).toBe(ERRNO.NOTCAPABLE);
      expect(call('sock_shutdown', conn, 1)).toBe(ERRNO.NOTCAPABLE);
      expect(readable(conn)).toBe(0n); // an event at once, with the error
      expect(dv.getUint16(1024 + 8, true)).toBe(ERRNO.NOTCAPABLE);
      expect(call('fd_fdstat_set_rights', 3, RIGHTS_LISTENER & ~RIGHTS.SOCK_ACCEPT, 0n)).toBe(ERRNO.SUCCESS);
      expect(call('sock_accept', 3, 0, 3000)).toBe(ERRNO.NOTCAPABLE);
      expect(readable(3)).toBe(0n);
      expect(dv.getUint16(1024 + 8, true)).toBe(ERRNO.NOTCAPABLE);
      expect(call('fd_close', conn)).toBe(ERRNO.SUCCESS);
    } finally {
      client.destroy();
      host.close();
      bridge.close();
    }
  });

  test('sock_recv with RECV_WAITALL: a message sent in pieces comes in one call; a freeze while it waits is refused and the wait goes on', async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    try {
      const message = 'all forty bytes, sent eight at a time..!';
      expect(message.length).toBe(40);
      proc = await run(example('recvall'), { args: ['40', '2'], listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      const address = proc.listening[0]!;
      /** Connects, runs `send` on the socket, and resolves with everything the guest answered. */
      const exchange = async (send: (s: net.Socket) => Promise<void>) => {
        const conn = await connectRaw(address);
        conn.socket.setNoDelay(true);
        await send(conn.socket);
        return conn.ended;
      };
      const answer = await exchange(async (s) => {
        for (let at = 0; at < message.length; at += 8) {
          s.write(message.slice(at, at + 8));
          await sleep(80);
          if (at === 16) {
            // 24 bytes are buffered and the guest waits for 40: the freeze gives way (open connection).
            const refused = await proc!.freeze().then(() => undefined, (e: unknown) => e);
            expect((refused as WmigError).kind).toBe('BUSY');
          }
        }
      });
      expect(answer).toBe('got 40\n');
      // At EOF a WAITALL receive returns what there is.
      expect(await exchange(async (s) => void s.end('only ten b'))).toBe('got 10\n');
      expect(await proc.result).toMatchObject({ state: 'exited', code: 0 });
      expect(io.out()).toBe(`recvall: listening on fd 3\npeek 40: ${message}\nrecv 40: ${message}\npeek 10: only ten b\nrecv 10: only ten b\n`);
    } finally {
      await proc?.kill();
      io.close();
    }
  });

  test('CLI: wmig run --listen, wmig freeze --drain PID waits out an open connection, wmig thaw --listen on another port', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const snapshot = fresh('http-snap');
    const env = { ...process.env, WMIG_CACHE_DIR: CACHE_DIR };
    const start = (args: string[]) => {
      const child = spawn(process.execPath, [WMIG, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => out.push(b));
      const closed = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
      return { child, closed, out: () => Buffer.concat(out).toString() };
    };
    const source = start(['run', '--listen', `127.0.0.1:${p1}`, '--snapshot', snapshot, example('httpcounter')]);
    let destination: ReturnType<typeof start> | undefined;
    try {
      await waitFor(() => source.out().includes('listening on fd 3'));
      expect(await get(`127.0.0.1:${p1}`)).toBe('request 1\n');
      expect(await get(`127.0.0.1:${p1}`)).toBe('request 2\n');
      // A connection is open when the freeze comes: --drain waits for the guest to serve and close it.
      const open = await connectRaw(`127.0.0.1:${p1}`);
      const freezing = wmig(['freeze', '--drain', '20000', String(source.child.pid)]);
      await sleep(300);
      open.socket.write('GET / HTTP/1.0\r\n\r\n');
      expect(await open.ended).toMatch(/request 3\n$/);
      const freeze = await freezing;
      expect(freeze.status, freeze.stderr.toString()).toBe(0);
      expect(await source.closed).toBe(ExitCode.FROZEN);
      destination = start(['thaw', '--listen', `127.0.0.1:${p2}`, snapshot]);
      await waitFor(() => get(`127.0.0.1:${p2}`).then(() => true, () => false), 30_000, true);
      // waitFor's probe made request 4.
      expect(await get(`127.0.0.1:${p2}`)).toBe('request 5\n');
      await waitFor(() => destination!.out().includes('served request 5\n'));
    } finally {
      source.child.kill();
      destination?.child.kill();
    }
  });

  // Without flow control the main thread held 3.4 MiB of these 8 MiB (the rest was in the kernel's
  // socket buffers); it grows with the stream.
  test('sock_send to a slow reader waits at the high-water mark: the main thread holds at most the mark plus one send; a freeze meanwhile gives way and is refused, no byte lost or repeated', async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    try {
      proc = await run(example('bulksend'), { args: ['8', '64'], listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      const reading = slowReader(Number(proc.listening[0]!.split(':')[1]), 4 << 20);
      await sleep(500);
      const refused = await proc.freeze().then(() => undefined, (e: unknown) => e);
      expect((refused as WmigError).kind).toBe('BUSY');
      expect(await reading).toEqual({ bytes: 8 << 20, misplaced: 0 });
      expect(await proc.result).toMatchObject({ state: 'exited', code: 0 });
      const { bytes, peak } = proc.sendBacklog;
      expect(bytes).toBe(0);
      expect(peak).toBeLessThanOrEqual(SEND_HIGH_WATER + (64 << 10));
      expect(peak).toBeGreaterThanOrEqual(SEND_HIGH_WATER / 2); // the reader was slow enough to hold the guest back
      expect(io.out()).toBe(`bulksend: listening on fd 3\n${[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `sent ${i} MiB\n`).join('')}done: 8388608 bytes\n`);
    } finally {
      await proc?.kill();
      io.close();
    }
  });

  test('a NONBLOCK sock_send takes what fits below the mark, else AGAIN; poll_oneoff reports FD_WRITE only below the mark', async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    try {
      // bulksend exits 1 if a send fails with AGAIN right after poll_oneoff reported the socket writable.
      proc = await run(example('bulksend'), { args: ['8', '64', 'nonblock'], listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      expect(await slowReader(Number(proc.listening[0]!.split(':')[1]), 8 << 20)).toEqual({ bytes: 8 << 20, misplaced: 0 });
      expect(await proc.result).toMatchObject({ state: 'exited', code: 0 });
      expect(proc.sendBacklog.peak).toBeLessThanOrEqual(SEND_HIGH_WATER);
      expect(io.out()).toMatch(/sent 8 MiB\nwould block: yes\ndone: 8388608 bytes\n$/);
    } finally {
      await proc?.kill();
      io.close();
    }
  });

  test('a peer that goes away mid-stream: the guest\'s next sends fail with EPIPE instead of waiting or vanishing', async () => {
    const io = stdioFiles();
    let proc: WmigProcess | undefined;
    try {
      proc = await run(example('bulksend'), { args: ['32'], listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      const s = net.connect(Number(proc.listening[0]!.split(':')[1]), '127.0.0.1');
      // resetAndDestroy: an RST, so the host's writes fail at once (32 MiB is far more than the
      // 256 KiB the guest may have in flight, so it meets the failure long before its last send).
      s.once('data', () => s.resetAndDestroy());
      expect(await proc.result).toMatchObject({ state: 'exited', code: 1 });
      expect(io.err()).toBe(`bulksend: sock_send: errno ${ERRNO.PIPE}\n`);
      expect(proc.sendBacklog.bytes).toBe(0);
    } finally {
      await proc?.kill();
      io.close();
    }
  });

  test('httpcounter exits after MAX requests; sock_* on non-sockets fail with the right errno', async () => {
    const io = stdioFiles();
    try {
      const proc = await run(example('httpcounter'), { args: ['2'], listen: ['127.0.0.1:0'], stdio: io.stdio, cacheDir: CACHE_DIR });
      expect(await get(proc.listening[0]!)).toBe('request 1\n');
      expect(await get(proc.listening[0]!)).toBe('request 2\n');
      expect(await proc.result).toMatchObject({ state: 'exited', code: 0 });
    } finally {
      io.close();
    }
    const host = new WasiHost({ args: ['t'], env: [], mounts: [] });
    host.setMemory(new WebAssembly.Memory({ initial: 1 }));
    const call = (name: string, ...a: number[]) => (host.imports[name] as unknown as (...x: number[]) => number)(...a);
    expect(call('sock_accept', 1, 0, 16)).toBe(ERRNO.NOTSOCK);
    expect(call('sock_accept', 99, 0, 16)).toBe(ERRNO.BADF);
    expect(call('sock_recv', 0, 0, 0, 0, 16, 20)).toBe(ERRNO.NOTSOCK);
    expect(call('sock_shutdown', 1, 1)).toBe(ERRNO.NOTSOCK);
  });
});
