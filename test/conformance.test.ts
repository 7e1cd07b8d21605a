/**
 * WASI preview1 conformance, differentially: every program in examples/conformance runs under wmig
 * (the CLI, a fresh OS process), node:wasi and @wasmer/wasi (each in a child process through a
 * runner in test/helpers/). wmig must pass every check. The peers' departures from the spec (the
 * preview1 witx and the WebAssembly/wasi-testsuite expectations) are asserted as what they are, with
 * the reason, so this file notices when a peer changes. Then each program is frozen and thawed at a
 * seeded sample of its WASI calls (every call: test-heavy/conformance-every-call.test.ts). The
 * symlink programs run once more on an in-memory /data, with the host-directory run as the oracle.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { PROGRAMS, TMPFS_PROGRAMS, callCount, checks, runUnder, short, type Program, type RunResult, type Runner } from './helpers/conformance.js';
import { freezeThawAt } from './helpers/freeze-thaw.js';
import { pool, removeDir, samplePoints, tempDir } from './helpers/wmig.js';

const work = tempDir('wmig-conformance-');
afterAll(() => removeDir(work));

/** What a peer does with a program: exit status (or a hang), and the checks it fails. */
interface PeerOutcome {
  status: number | number[] | 'hang';
  fail: string[];
  /** The peer's output is sometimes cut short (see sock): the failures seen are a subset of `fail`. */
  truncates?: boolean;
}

const PASS: PeerOutcome = { status: 0, fail: [] };

/**
 * node:wasi (Node 20, uvwasi). Anything not listed passes.
 */
const NODE: Record<string, PeerOutcome> = {
  // fd_prestat_get on stdout and on a path_open'ed directory succeeds (spec: BADF, only preopens have
  // a prestat); fd_prestat_dir_name with a short buffer succeeds truncated (wasmtime: NAMETOOLONG).
  fd_misc: { status: 1, fail: ['prestat_get stdout BADF', 'prestat_get opened dir BADF', 'prestat_dir_name short buffer'] },
  // The APPEND fdflag given to path_open / fd_fdstat_set_flags is not reported by fd_fdstat_get.
  fdstat: { status: 1, fail: ['fdstat reports APPEND', 'fdstat APPEND set again'] },
  // Every check passes, but path_filestat_set_times with ATIM|ATIM_NOW-style bad flags (the last
  // check) leaves uvwasi's lock on the directory fd held: later calls on it deadlock, and the
  // process aborts (SIGABRT, 134) at exit — usually; sometimes it exits 0.
  filestat: { status: [0, 134], fail: [] },
  // readlink with a short buffer fails NOBUFS (spec/wasi-testsuite: truncate, bufused = buf_len);
  // a dangling symlink opened without SYMLINK_FOLLOW gives NOENT (spec: LOOP); without
  // SYMLINK_FOLLOW a symlink to a file or a directory is followed anyway (spec: LOOP, or NOTDIR
  // with O_DIRECTORY); a path with a NUL byte inside its (ptr, len) is accepted, silently cut at the
  // NUL (spec: INVAL); path_open relative to a regular file fd gives NOTCAPABLE (NOTDIR).
  paths: {
    status: 1,
    fail: [
      'readlink short buffer succeeds', 'readlink short buffer truncates to buf_len', 'readlink short buffer contents',
      'libc readlink short buffer', 'open dangling nofollow LOOP', 'open dangling nofollow O_DIRECTORY',
      'open file link nofollow LOOP', 'open dir link nofollow O_DIRECTORY', 'open dir link nofollow LOOP',
      'libc open O_NOFOLLOW on link ELOOP', 'path with trailing NUL INVAL', 'filestat path with trailing NUL INVAL',
      'mkdir path with trailing NUL INVAL', 'path_open relative to a file NOTDIR',
    ],
  },
  // poll_oneoff never returns for an absolute CLOCK_REALTIME deadline already in the past (the
  // last check, after a flush): it should fire at once.
  poll: { status: 'hang', fail: [] },
  // fd_readdir omits "." and ".." (the spec lists them; wasi-testsuite fd_readdir expects them);
  // fd_readdir on a regular file gives NOTCAPABLE (NOTDIR, or BADF).
  readdir: {
    status: 1,
    fail: [
      'entry count incl . and ..', 'has .', 'has ..', '. is DIRECTORY', 'small-buffer walk sees every entry',
      'empty dir lists . and ..', 'fd_readdir on a file NOTDIR', 'libc readdir . and ..',
    ],
  },
  // sock_shutdown answers NOTSUP on a bad fd (spec: BADF) and NOTSUP/NOTCAPABLE on files,
  // directories and stdio (NOTSOCK); sock_recv/send/accept on a file give BADF (NOTSOCK).
  // Node 20 often segfaults at exit after this program (139, DESIGN.md "Node quirks"), and its
  // output is then sometimes cut after the first line.
  sock: {
    status: [1, 139],
    truncates: true,
    fail: [
      'sock_shutdown bad fd BADF', 'sock_shutdown file NOTSOCK', 'sock_shutdown dir NOTSOCK', 'sock_shutdown stdout NOTSOCK',
      'sock_recv file NOTSOCK', 'sock_send file NOTSOCK', 'sock_accept file NOTSOCK',
    ],
  },
  // fd_tell needs FD_TELL even with FD_SEEK (witx: FD_SEEK implies FD_TELL), and every fd_seek needs
  // FD_SEEK (witx: one that leaves the offset alone, CUR 0, needs only FD_TELL).
  rights: { status: 1, fail: ['fd_seek CUR 0 with only FD_TELL', 'fd_tell with FD_SEEK (which implies FD_TELL)'] },
  proc_exit: { status: 3, fail: [] },
};

/**
 * @wasmer/wasi 1.2.2: an in-memory file system only (the runner copies the fixture in, without
 * symlinks: MemFS has none), and several calls trap with `unreachable` inside its Rust code instead
 * of returning an errno — the guest dies there (status 134 from our runner) and libc's buffered
 * output since the last flush is lost, so fewer checks are seen at all.
 */
const WASMER: Record<string, PeerOutcome> = {
  // clock_res_get traps for the cputime clocks (spec: a value or INVAL).
  clocks: { status: 134, fail: [] },
  // fd_seek to a negative offset succeeds (INVAL), then fd_seek with a bad whence traps.
  fd_basic: { status: 134, fail: ['seek negative result INVAL', 'seek END negative result INVAL', 'failed seek leaves offset'] },
  // The preopen is named "data" (given "/data"); fd_prestat_get on stdout succeeds (BADF); a short
  // name buffer is not an error; then fd_advise traps.
  fd_misc: { status: 134, fail: ['prestat name len', 'prestat_dir_name value', 'prestat_get stdout BADF', 'prestat_dir_name short buffer'] },
  // Clearing APPEND with fd_fdstat_set_flags does not stop appending; a missing right is ACCES (NOTCAPABLE).
  fdstat: { status: 1, fail: ['write without APPEND at offset', 'read without FD_READ right'] },
  // fd_filestat_set_times or a later call traps.
  filestat: { status: 134, fail: [] },
  // No symlinks, no hard links, most path errors wrong (mkdir on an existing name succeeds, EXCL
  // ignored, renames over anything succeed, no sandbox errors, NUL bytes accepted …).
  paths: {
    status: 1,
    fail: [
      'mkdir existing EXIST', 'mkdir over file EXIST', 'mkdir missing parent NOENT', 'unlink file/ NOTDIR',
      'rename file over dir ISDIR', 'rename dir over file NOTDIR', 'rename dir over non-empty dir NOTEMPTY',
      'renamed dir keeps contents', 'rename dir into itself INVAL', 'link', 'link nlink 2', 'link onto existing EXIST',
      'link a directory PERM', 'readlink short buffer succeeds', 'readlink short buffer truncates to buf_len',
      'readlink short buffer contents', 'readlink non-link INVAL', 'readlink dangling', 'libc readlink short buffer',
      'open dangling nofollow LOOP', 'open dangling nofollow O_DIRECTORY', 'open file link nofollow LOOP',
      'open file link follow', 'open dir link nofollow O_DIRECTORY', 'open dir link nofollow LOOP',
      'open dir link follow O_DIRECTORY', 'open through dir link', 'dangling target now exists',
      'libc open O_NOFOLLOW on link ELOOP', 'O_DIRECTORY on file NOTDIR', 'O_CREAT|O_EXCL existing EXIST',
      'O_CREAT|O_EXCL on dir EXIST', 'open missing parent NOENT', 'open file/ NOTDIR', 'open dir for write ISDIR',
      'O_TRUNC on dir ISDIR', 'O_CREAT on existing dir ISDIR', 'O_TRUNC empties', 'path with trailing NUL INVAL',
      'path with inner NUL INVAL', 'filestat path with trailing NUL INVAL', 'mkdir path with trailing NUL INVAL',
      'open .. escape', 'open absolute path', 'open through escaping symlink', 'mkdir .. escape', 'filestat .. escape',
    ],
  },
  // poll_oneoff traps on its first (relative clock) subscription.
  poll: { status: 134, fail: [] },
  // The fixture's symlink is missing (MemFS has none); "." and ".." are listed.
  readdir: { status: 1, fail: ['link-hello is SYMBOLIC_LINK'] },
  // No symlinks in MemFS.
  rust_fs: { status: 1, fail: ['symlink_metadata is symlink', 'metadata follows symlink', 'read_link'] },
  // thread::sleep (poll_oneoff) traps.
  rust_env: { status: 134, fail: [] },
  // Exits 1 before printing anything through libc (its sock_* results are not seen).
  sock: { status: 1, fail: [] },
  // A missing right is ACCES (NOTCAPABLE), also for a seek that FD_TELL allows; then poll_oneoff traps.
  rights: {
    status: 134,
    fail: [
      'fd_read without FD_READ', 'fd_read without FD_READ after renumber', 'fd_write without FD_WRITE', 'fd_seek without FD_SEEK',
      'fd_seek CUR 0 with only FD_TELL', 'fd_pread without FD_SEEK', 'fd_pwrite without FD_SEEK', 'fd_pread without FD_READ',
    ],
  },
  proc_exit: { status: 3, fail: [] },
};

const outcome = (r: RunResult): { status: number | 'hang'; fail: string[] } => ({
  status: r.timedOut ? 'hang' : r.status,
  fail: checks(r.stdout).fail,
});

/** A peer run; a peer killed by a signal other than SIGABRT is retried once (Node 20's exit segfault, DESIGN.md). */
async function runPeer(runner: Runner, c: Program): Promise<RunResult> {
  const timeoutMs = short(c) === 'poll' ? 15_000 : 60_000;
  let r = await runUnder(runner, c, `${work}/${runner}-1`, { timeoutMs });
  if (!r.timedOut && r.status > 128 && r.status !== 134) r = await runUnder(runner, c, `${work}/${runner}-2`, { timeoutMs });
  return r;
}

function expectOutcome(r: RunResult, want: PeerOutcome, who: string): void {
  const got = outcome(r);
  if (want.truncates) expect(want.fail, `${who}: failing checks\n${r.stdout}`).toEqual(expect.arrayContaining(got.fail));
  else expect(got.fail, `${who}: failing checks\n${r.stdout}`).toEqual(want.fail);
  if (Array.isArray(want.status)) expect(want.status, `${who}: status`).toContain(got.status);
  else expect(got.status, `${who}: status (stderr ${r.stderr.slice(0, 300)})`).toEqual(want.status);
}

describe('differential: wmig vs node:wasi vs @wasmer/wasi', () => {
  const results = new Map<string, Promise<Record<Runner, RunResult>>>();
  /** All three runs of a program (wmig first, which also warms the instrumentation cache). */
  const runAll = (c: Program) => {
    if (!results.has(c.name)) {
      results.set(c.name, (async () => {
        const [wmig, node, wasmer] = await pool([() => runUnder('wmig', c, `${work}/wmig`), () => runPeer('node', c), () => runPeer('wasmer', c)], 2);
        return { wmig: wmig!, node: node!, wasmer: wasmer! };
      })());
    }
    return results.get(c.name)!;
  };

  test.each(PROGRAMS.map((c) => [short(c), c] as const))('%s', async (_name, c) => {
    const r = await runAll(c);
    const mine = checks(r.wmig.stdout);
    // wmig: every check passes, and it sees at least every check any peer saw.
    expect(mine.fail, r.wmig.stdout).toEqual([]);
    expect(r.wmig.status, r.wmig.stderr).toBe(c.status);
    if (c.status === 0) expect(mine.ok.length).toBeGreaterThan(0);
    for (const peer of ['node', 'wasmer'] as const) {
      const seen = [...checks(r[peer].stdout).ok, ...checks(r[peer].stdout).fail];
      expect(seen.filter((n) => !mine.ok.includes(n)), `${peer} saw checks wmig did not`).toEqual([]);
    }
    expectOutcome(r.node, NODE[short(c)] ?? PASS, 'node:wasi');
    expectOutcome(r.wasmer, WASMER[short(c)] ?? PASS, '@wasmer/wasi');
  });
});

/** Freeze points per program here; test-heavy/conformance-every-call.test.ts does all of them. */
const SAMPLE = 3;

describe('frozen and thawed at a seeded sample of WASI calls: same output as the uninterrupted run', () => {
  test.each(PROGRAMS.map((c) => [short(c), c] as const))('%s', async (_name, c) => {
    const total = await callCount(c);
    expect(total).toBeGreaterThan(0);
    const points = samplePoints(total, SAMPLE, 0xc0f);
    const bad: string[] = [];
    await pool(points.map((n) => async () => {
      const got = await freezeThawAt(c, n);
      const failing = checks(got.stdout).fail;
      if (got.status !== c.status || failing.length > 0) bad.push(`call ${n}/${total}: status ${got.status}, ${failing.join('; ')} ${got.stderr.slice(-300)}`);
    }));
    expect(bad).toEqual([]);
  });
});

describe('on an in-memory /data (--tmpfs), which the program fills itself', () => {
  const uninterrupted = new Map<string, Promise<RunResult>>();
  const runWhole = (c: Program) => {
    if (!uninterrupted.has(c.name)) uninterrupted.set(c.name, runUnder('wmig', c, `${work}/tmpfs`));
    return uninterrupted.get(c.name)!;
  };

  test.each(TMPFS_PROGRAMS.map((c) => [short(c), c] as const))('%s: the same output as on a host directory', async (_name, c) => {
    const onHost = PROGRAMS.find((h) => h.name === c.name)!;
    const [inMemory, oracle] = await Promise.all([runWhole(c), runUnder('wmig', onHost, `${work}/tmpfs-oracle`)]);
    expect(inMemory.status, inMemory.stderr).toBe(0);
    expect(checks(inMemory.stdout).fail).toEqual([]);
    expect(inMemory.stdout).toBe(oracle.stdout);
  });

  // Halfway, the fixture's symlinks and the program's own are in the mount: the snapshot carries them.
  test.each(TMPFS_PROGRAMS.map((c) => [short(c), c] as const))('%s: frozen and thawed at a sample of calls and halfway, the same output', async (_name, c) => {
    const total = await callCount(c);
    const whole = await runWhole(c);
    const points = [...new Set([...samplePoints(total, SAMPLE, 0x7f5), Math.ceil(total / 2)])];
    const bad: string[] = [];
    await pool(points.map((n) => async () => {
      const got = await freezeThawAt(c, n);
      if (got.status !== c.status || got.stdout !== whole.stdout) bad.push(`call ${n}/${total}: status ${got.status}, ${checks(got.stdout).fail.join('; ')} ${got.stderr.slice(-300)}`);
    }));
    expect(bad).toEqual([]);
  });
});
