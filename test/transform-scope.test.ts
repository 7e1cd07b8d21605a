/**
 * Issue 4: precise instrumentation scope and preemption points.
 * - the call-graph scan (transforms/code-scan.ts) on hand-written modules;
 * - precise scope instruments fewer functions than Asyncify's own analysis, never one too few
 *   (a function reaching fd_write through the table stays instrumented and unwinds correctly);
 * - preemption points: a compute loop with no WASI call freezes (CLI --preempt --freeze-after)
 *   and thaws in a new process with output identical to the uninterrupted run.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import binaryen from 'binaryen';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../dist/runtime/index.js';
import { instrument, isInvokeImport, PREEMPT_IMPORT } from '../transforms/index.js';
import { canReach, loopCount, recursiveFunctions, scanModule } from '../transforms/code-scan.js';
import { insertPreemptChecks } from '../transforms/preempt.js';
import { reserveTopPages } from '../transforms/reserve.js';
import { BACKENDS } from './helpers/backends.js';
import { removeDir, ROOT, tempDir, wmig } from './helpers/wmig.js';
import { wat } from './helpers/wat.js';


// $viaTable reaches fd_write only through call_indirect of type $ii (the table holds $write of that
// type); $compute calls through type $i, whose only table entry ($pure) reaches nothing.
const SCOPE_WAT = `
(module
  (type $ii (func (param i32) (result i32)))
  (type $i (func (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $write $pure)
  (global $sp (mut i32) (i32.const 1024))
  (func $write (param $x i32) (result i32)
    (call $fd_write (local.get $x) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func $pure (result i32) (i32.const 42))
  (func $viaTable (param $x i32) (result i32)
    (call_indirect (type $ii) (local.get $x) (i32.const 0)))
  (func $compute (result i32)
    (call_indirect (type $i) (i32.const 1)))
  (func $rec (param $n i32) (result i32)
    (if (result i32) (local.get $n)
      (then (call $rec (i32.sub (local.get $n) (i32.const 1))))
      (else (i32.const 0))))
  (func (export "_start") (local $i i32) (local $sum i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum)
        (i32.add (call $viaTable (local.get $i)) (i32.add (call $compute) (call $rec (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 3))))
    (call $proc_exit (local.get $sum)))
)`;

describe('code scan', () => {
  const wasm = wat(SCOPE_WAT);
  const m = scanModule(wasm);
  // Index space: 0 fd_write, 1 proc_exit, 2 $write, 3 $pure, 4 $viaTable, 5 $compute, 6 $rec, 7 _start.
  it('finds calls, indirect signatures, table entries and loops', () => {
    expect(m.numImportedFunctions).toBe(2);
    expect(m.functions).toHaveLength(8);
    expect([...m.addressTaken].sort()).toEqual([2, 3]);
    expect([...m.functions[7]!.calls].sort()).toEqual([1, 4, 5, 6]);
    expect(m.functions[4]!.indirectSigs.size).toBe(1);
    expect(loopCount(m.functions[7]!)).toBe(1);
    expect(loopCount(m.functions[5]!)).toBe(0);
  });

  it('reaches fd_write through the table only for the matching signature', () => {
    const reach = canReach(m, new Set([0]));
    expect([...reach].sort()).toEqual([0, 2, 4, 7]);
  });

  it('finds recursion', () => {
    expect([...recursiveFunctions(m)]).toEqual([6]);
  });

  it('inserts a flag check per loop and per recursive function, the wmig.preempt import, a stub and a global', () => {
    const rewrite = insertPreemptChecks(m);
    expect(rewrite.loopChecks).toBe(1);
    expect(rewrite.entryChecks).toBe(1);
    expect(rewrite.importIndex).toBe(2);
    expect(rewrite.stubIndex).toBe(9);
    expect(rewrite.flagGlobal).toBe(1);
    expect(WebAssembly.validate(rewrite.bytes as BufferSource)).toBe(true);
    // Every defined function moved up by one, the table and the calls with it.
    const after = scanModule(rewrite.bytes);
    expect(after.functions[2]!.import).toEqual(PREEMPT_IMPORT);
    expect([...after.addressTaken].sort()).toEqual([3, 4]);
    expect([...after.functions[8]!.calls].sort()).toEqual([1, 5, 6, 7, 9]);
    expect([...after.functions[9]!.calls]).toEqual([2]);
    expect(runModule(rewrite.bytes)).toEqual(runModule(wasm));
  });

  it('keeps every function name in the name section when preempt moves it up by one index', () => {
    const names = (bytes: Uint8Array) => {
      const module = binaryen.readBinary(bytes);
      try {
        return Array.from({ length: module.getNumFunctions() }, (_, i) => binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
      } finally {
        module.dispose();
      }
    };
    const ledger = readFileSync(join(ROOT, 'examples', 'build', 'ledger.wasm'));
    const scanned = scanModule(ledger);
    const before = names(ledger);
    const after = names(insertPreemptChecks(scanned).bytes);
    const k = scanned.numImportedFunctions;
    expect(after.slice(0, k)).toEqual(before.slice(0, k));
    expect(after.slice(k + 1, before.length + 1)).toEqual(before.slice(k));
  });
});

// setjmp/longjmp as LLVM's Emscripten lowering emits it (transforms/sjlj.ts): $protected calls table
// entry 0 ($write, which reaches fd_write) through env.invoke_ii; $loops calls $again, which reaches
// nothing but recurses through env.invoke_vi; $throw calls wmig.longjmp_unwind.
const INVOKE_WAT = `
(module
  (type $ii (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "invoke_ii" (func $invoke_ii (param i32 i32) (result i32)))
  (import "env" "invoke_vi" (func $invoke_vi (param i32 i32)))
  (import "wmig" "longjmp_unwind" (func $longjmp_unwind (param i32)))
  (memory (export "memory") 1)
  (table 3 funcref)
  (elem (i32.const 0) $write $pure $again)
  (func $write (type $ii) (call $fd_write (local.get 0) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func $pure (type $ii) (local.get 0))
  (func $again (param i32)
    (if (local.get 0) (then (call $invoke_vi (i32.const 2) (i32.sub (local.get 0) (i32.const 1))))))
  (func $protected (param i32) (result i32) (call $invoke_ii (i32.const 0) (local.get 0)))
  (func $loops (call $invoke_vi (i32.const 2) (i32.const 5)))
  (func $throw (call $longjmp_unwind (i32.const 8)))
  (func (export "_start") (drop (call $protected (i32.const 1))) (call $loops) (call $throw))
)`;

describe('code scan: invokes of the setjmp/longjmp lowering', () => {
  const m = scanModule(wat(INVOKE_WAT));
  // Index space: 0 fd_write, 1 invoke_ii, 2 invoke_vi, 3 longjmp_unwind, 4 $write, 5 $pure, 6 $again,
  // 7 $protected, 8 $loops, 9 $throw, 10 _start.
  it('an invoke reaches what the table entries of its callee signature reach, and nothing else does', () => {
    expect([...canReach(m, new Set([0, 3]))].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 7, 9, 10]);
  });

  it('recursion through an invoke is recursion', () => {
    expect([...recursiveFunctions(m)]).toEqual([6]);
  });
});

describe.each(BACKENDS)('invokes instrumented ($name)', async ({ wasmOpt }) => {
  it('are unwind points with longjmp_unwind, and the table is exported for the host to call into', async () => {
    const out = await instrument(wat(INVOKE_WAT), { wasmOpt });
    expect(out.info.freezePoints).toEqual(['wasi_snapshot_preview1.fd_write', 'env.invoke_ii', 'env.invoke_vi', 'wmig.longjmp_unwind']);
    expect(out.info.table).toBe('wmig.table');
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(out.wasm as BufferSource));
    expect(exports).toContainEqual({ name: 'wmig.table', kind: 'table' });
    expect(out.stats?.preciseFunctions).toBe(4); // $write, $protected, $throw, _start
  });
});

/** What instrument() hands to Asyncify, but for the global exports: top pages reserved, then the checks. */
function preparedForAsyncify(preempt: boolean, bytes: Uint8Array): Uint8Array {
  const reserved = reserveTopPages(scanModule(bytes)).bytes;
  return preempt ? insertPreemptChecks(scanModule(reserved)).bytes : reserved;
}

/** Runs an instrumented module with a minimal host; fd_write returns its first argument. */
function runModule(bytes: Uint8Array): { exit: number; writes: number[] } {
  const writes: number[] = [];
  let exit = -1;
  class Exit extends Error {}
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    wasi_snapshot_preview1: {
      fd_write: (x: number) => (writes.push(x), x),
      proc_exit: (code: number) => { exit = code; throw new Exit(); },
    },
    [PREEMPT_IMPORT.module]: { [PREEMPT_IMPORT.base]: () => 100 },
  });
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
  }
  return { exit, writes };
}

describe.each(BACKENDS)('precise scope ($name)', async ({ wasmOpt }) => {
  const wasm = wat(SCOPE_WAT);
  const precise = await instrument(wasm, { wasmOpt });
  const wide = await instrument(wasm, { scope: 'asyncify', wasmOpt });

  it('instruments only functions that can reach a freeze point', () => {
    expect(precise.stats?.preciseFunctions).toBe(3); // $write, $viaTable, _start
    expect(precise.stats?.fallback).toBeNull();
    // Without optimization inlining away the evidence, count the functions Asyncify touched.
    expect(precise.wasm.length).toBeLessThan(wide.wasm.length);
  });

  it('behaves like the original', async () => {
    expect(runModule(precise.wasm)).toEqual(runModule(wasm));
    expect(runModule(wide.wasm)).toEqual(runModule(wasm));
    const optimized = await instrument(wasm, { optimizeModule: true, optimizeLevel: 1, wasmOpt });
    expect(runModule(optimized.wasm)).toEqual(runModule(wasm));
  });

  it('instruments exactly the functions of its analysis in the examples, at most as many as Asyncify alone', async () => {
    const { instrumentedFunctions } = await import('../bench/cpu-suite-count.js' as string);
    for (const name of ['fileio', 'ledger', 'sjlj']) {
      const bytes = readFileSync(join(ROOT, 'examples', 'build', `${name}.wasm`));
      // Unoptimized (level 0), so inlining does not blur which functions Asyncify touched.
      const a = await instrument(bytes, { scope: 'asyncify', optimizeLevel: 0, wasmOpt });
      for (const preempt of [false, true]) {
        const p = await instrument(bytes, { optimizeLevel: 0, preempt, wasmOpt });
        expect(p.stats?.fallback).toBeNull();
        // The remove-list took effect exactly: the tool's names (Rust's contain $, ., ::; duplicates are
        // renamed) matched, also after preempt moved every function (and its name) up by one index.
        const m = scanModule(preparedForAsyncify(preempt, bytes));
        const roots = new Set(m.functions.filter((f) => f.import && !isInvokeImport(f.import.module, f.import.base) && p.info.freezePoints.includes(`${f.import.module}.${f.import.base}`)).map((f) => f.index));
        const expected = [...canReach(m, roots)].filter((f) => !m.functions[f]!.import).sort((x, y) => x - y);
        expect([...instrumentedFunctions(p.wasm)].sort((x: number, y: number) => x - y)).toEqual(expected);
        expect(expected.length).toBe(p.stats!.preciseFunctions! + (preempt ? 1 : 0));
        if (!preempt) expect(expected.length).toBeLessThanOrEqual(instrumentedFunctions(a.wasm).size);
      }
    }
  }, 120_000);

  it('preempt: adds wmig.preempt as a freeze point and still behaves like the original', async () => {
    const withPreempt = await instrument(wasm, { preempt: true, wasmOpt });
    expect(withPreempt.info.freezePoints).toContain(`${PREEMPT_IMPORT.module}.${PREEMPT_IMPORT.base}`);
    expect(withPreempt.stats?.loopChecks).toBe(1);
    expect(runModule(withPreempt.wasm)).toEqual(runModule(wasm));
  });
});

describe('freezing a compute loop (--preempt)', () => {
  const spin = join(ROOT, 'examples', 'build', 'cpu', 'spin.wasm');
  const dir = tempDir();
  afterAll(() => removeDir(dir));

  it.skipIf(!existsSync(spin))('freezes mid-loop via --freeze-after and thaws in a new process with identical output', async () => {
    const args = ['300'];
    const expected = await wmig(['run', '--preempt', spin, ...args]);
    expect(expected.status).toBe(0);
    expect(expected.stdout.toString().split('\n')).toHaveLength(3);
    const snapshot = join(dir, 'spin.wmig');
    const frozen = await wmig(['run', '--preempt', '--freeze-after', '1000', '--snapshot', snapshot, spin, ...args]);
    expect(frozen.status).not.toBe(0);
    // Frozen at a preemption point, not at a WASI call: the loop makes none (on a slow machine the
    // freeze may come before the first printf, so only a prefix of the output is checked).
    expect(expected.stdout.toString().startsWith(frozen.stdout.toString())).toBe(true);
    const inspected = await wmig(['inspect', snapshot]);
    expect(inspected.stdout.toString()).toMatch(/resumes in wmig\.preempt/);
    const thawed = await wmig(['thaw', snapshot]);
    expect(thawed.status).toBe(0);
    expect(frozen.stdout.toString() + thawed.stdout.toString()).toBe(expected.stdout.toString());
  }, 180_000);

  // The interrupt goes to the guest's worker by thread id. The inspector numbers workers its own
  // way, as it meets them: a worker of the caller's that ended before wmig's session began has a
  // thread id but no number, so the numbers were off by one from the thread ids, and the interrupt
  // went to the caller's live worker (the freeze then waited for a WASI call).
  it.skipIf(!existsSync(spin))("freezes a compute loop when the caller's own workers came first", async () => {
    const ended = new Worker('', { eval: true });
    await new Promise((resolve) => ended.once('exit', resolve));
    const own = [new Worker('setInterval(() => {}, 1000)', { eval: true, name: 'mine' })];
    const devNull = openSync('/dev/null', 'w');
    try {
      const proc = await run(spin, { args: ['100000'], preempt: true, stdio: { stdin: 0, stdout: devNull, stderr: devNull } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // spin makes no WASI call for minutes: without the interrupt this waits until the test times out.
      const report = await proc.freeze({ leaveRunning: true, embedModule: false });
      expect(report.timings.capturedAt).toBeGreaterThanOrEqual(report.timings.requestedAt);
      await proc.kill();
    } finally {
      await Promise.all(own.map((w) => w.terminate()));
      closeSync(devNull);
    }
  }, 30_000);

});
