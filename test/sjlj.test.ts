/**
 * setjmp/longjmp (examples/include/setjmp.h: LLVM's Emscripten setjmp lowering, env.invoke_* and
 * wmig.longjmp_unwind on Asyncify). Oracles: the same C source built natively with gcc and glibc's
 * setjmp (what the program prints), and the uninterrupted wmig run (what a frozen and thawed run
 * prints). The freeze at every call of examples/c/sjlj.c is in migration-every-call; here: the
 * native agreement, a freeze inside protected calls whose longjmp lands after the thaw, and a
 * bad longjmp's trap.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ExitCode } from '../dist/runtime/index.js';
import { ROOT, example, removeDir, tempDir, wmig } from './helpers/wmig.js';

const SOURCE = join(ROOT, 'examples', 'c', 'sjlj.c');

function nativeRun(args: string[] = []): { stdout: string; stderr: string } {
  const dir = tempDir();
  try {
    const exe = join(dir, 'sjlj');
    execFileSync('gcc', ['-O2', '-o', exe, SOURCE]);
    const out = join(dir, 'out');
    const err = join(dir, 'err');
    // Through files, as wmig's runs below: the buffering of stdout must be the same.
    execFileSync('sh', ['-c', `"$0" "$@" >"${out}" 2>"${err}"`, exe, ...args]);
    return { stdout: execFileSync('cat', [out]).toString(), stderr: execFileSync('cat', [err]).toString() };
  } finally {
    removeDir(dir);
  }
}

interface Inspected {
  pendingImport: string;
}

describe('setjmp/longjmp', () => {
  test('a program using setjmp/longjmp across frames prints what its native build prints', async () => {
    const native = nativeRun();
    const got = await wmig(['run', example('sjlj')]);
    expect(got.status, got.stderr.toString()).toBe(0);
    expect(got.stdout.toString()).toBe(native.stdout);
    expect(got.stderr.toString()).toBe(native.stderr);
    // The program's own checks: nested handlers, rethrow, memcpy'd jmp_buf, a grown setjmp table, 3000 deep throws.
    expect(native.stdout).toContain('outer caught 106');
    expect(native.stdout).toContain('copy: code 7 at stage 2');
    expect(native.stdout).toContain('table: sum 651');
    expect(native.stdout).toContain('total 4500359');
  });

  test('frozen inside protected calls, the longjmp after the thaw lands in a frame rewound through them', async () => {
    const expected = await wmig(['run', example('sjlj')]);
    const dir = tempDir();
    try {
      // The first freeze point after "risky n=2": the stderr write of risky(n=3), eight frames
      // below inner's and outer's setjmp, whose calls went through invokes. risky throws right
      // after it, so the thawed process longjmps to inner's setjmp: its invoke and frame were
      // rewound from the snapshot, its jmp_buf and setjmp table restored with linear memory.
      const snapshot = join(dir, 'frozen.wmig');
      let frozen: Awaited<ReturnType<typeof wmig>> | undefined;
      for (let call = 1; call < 40 && !frozen; call++) {
        const attempt = await wmig(['run', '--freeze-at-call', String(call), '--snapshot', snapshot, example('sjlj')]);
        expect(attempt.status, attempt.stderr.toString()).toBe(ExitCode.FROZEN);
        if (attempt.stderr.toString() === 'risky n=0\nrisky n=1\nrisky n=2\n') frozen = attempt;
      }
      expect(frozen, 'no freeze point right after "risky n=2"').toBeDefined();

      const inspected = await wmig(['inspect', '--json', snapshot]);
      const d = JSON.parse(inspected.stdout.toString()) as Inspected;
      expect(d.pendingImport).toBe('wasi_snapshot_preview1.fd_write');

      const thawed = await wmig(['thaw', snapshot]);
      expect(thawed.status, thawed.stderr.toString()).toBe(0);
      // Printed after that longjmp (stdout is a file, so earlier lines sit in stdio's buffer until then).
      expect(thawed.stdout.toString()).toContain('inner caught 103 after 2 attempt(s)\n');
      expect(frozen!.stdout.toString() + thawed.stdout.toString()).toBe(expected.stdout.toString());
      expect(frozen!.stderr.toString() + thawed.stderr.toString()).toBe(expected.stderr.toString());
    } finally {
      removeDir(dir);
    }
  });

  test('longjmp to a jmp_buf setjmp never filled is a trap with a clear message', async () => {
    const got = await wmig(['run', example('sjlj'), 'bad-longjmp']);
    expect(got.status).toBe(ExitCode.TRAP);
    expect(got.stderr.toString()).toMatch(/longjmp to the jmp_buf at 0x[0-9a-f]+, which no active setjmp filled/);
  });
});
