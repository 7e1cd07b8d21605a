/**
 * setjmp/longjmp (examples/include/setjmp.h: LLVM's Emscripten setjmp lowering, env.invoke_* and
 * wmig.longjmp_unwind on Asyncify). Oracles: the same C source built natively with gcc and glibc's
 * setjmp (what the program prints), and the uninterrupted wmig run (what a frozen and thawed run
 * prints). The freeze at every call of examples/c/sjlj.c is in migration-every-call; here: the
 * native agreement, a freeze inside protected calls whose longjmp lands after the thaw, and a
 * bad longjmp's trap.
 */
import { execFileSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
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

type SjljShim = (module: WebAssembly.Module) => { imports: Record<string, Record<string, unknown>>; bind(instance: WebAssembly.Instance): void };

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

  test('outside wmig, the same build runs under node:wasi with the benchmarks\' invokes (bench/lib/sjlj-shim.js) and prints the same', async () => {
    const native = nativeRun();
    const { sjljImports } = (await import('../bench/lib/sjlj-shim.js' as string)) as { sjljImports: SjljShim };
    const dir = tempDir();
    try {
      const [out, err] = ['out', 'err'].map((f) => openSync(join(dir, f), 'w'));
      const wasi = new WASI({ version: 'preview1', args: ['sjlj'], env: {}, returnOnExit: true, stdout: out, stderr: err });
      const module = new WebAssembly.Module(readFileSync(example('sjlj')));
      const sjlj = sjljImports(module);
      const instance = new WebAssembly.Instance(module, { ...wasi.getImportObject(), ...sjlj.imports } as WebAssembly.Imports);
      sjlj.bind(instance);
      expect(wasi.start(instance)).toBe(0);
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(native.stdout);
      expect(readFileSync(join(dir, 'err'), 'utf8')).toBe(native.stderr);
    } finally {
      removeDir(dir);
    }
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

  test('a call through a null function pointer inside a protected call (an invoke) is a trap', async () => {
    const got = await wmig(['run', example('sjlj'), 'null-call']);
    expect(got.status).toBe(ExitCode.TRAP);
    expect(got.stderr.toString()).toMatch(/invoke of table entry 0, which is null/);
  });

  test('longjmp to a jmp_buf setjmp never filled is a trap with a clear message', async () => {
    const got = await wmig(['run', example('sjlj'), 'bad-longjmp']);
    expect(got.status).toBe(ExitCode.TRAP);
    expect(got.stderr.toString()).toMatch(/longjmp to the jmp_buf at 0x[0-9a-f]+, which no active setjmp filled/);
  });
});
