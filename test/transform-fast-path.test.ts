/**
 * Issue 4: fast paths (transforms/fast-path.ts). Each instrumented function keeps Asyncify's body as
 * an appended rewind copy, byte for byte, and its own index gets a body whose only rewind check sends
 * a rewind to that copy, and whose guards against rewinding are gone. The oracle for the bytes is the same module instrumented with
 * `fastPaths: false`; that freezing and thawing still behaves is what migration-every-call,
 * migration-scenarios (10 generations) and sjlj test with the default, which has fast paths.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { instrument } from '../transforms/index.js';
import { ByteWriter, uleb } from '../transforms/byte-writer.js';
import { Reader, scanModule, type ScannedModule } from '../transforms/code-scan.js';
import { bundledWasmOpt } from '../transforms/wasm-opt.js';
import { exportedFunction, readSections } from '../transforms/wasm-binary.js';
import { BACKENDS } from './helpers/backends.js';
import { ExitCode } from '../dist/runtime/index.js';
import { CACHE_DIR, example, removeDir, ROOT, tempDir, wmig } from './helpers/wmig.js';

// Plain JavaScript shared with the benchmarks (no types).
const { instrumentedFunctions } = await import('../bench/cpu-suite-count.js' as string);

const CASES = [
  { name: 'interp (precise)', file: 'examples/build/cpu/interp.wasm', preempt: false },
  { name: 'fannkuch (preempt)', file: 'examples/build/cpu/fannkuch.wasm', preempt: true },
  { name: 'sjlj', file: 'examples/build/sjlj.wasm', preempt: false },
];

/** A defined function's body bytes (size prefix excluded). */
function body(m: ScannedModule, index: number): Uint8Array {
  const fn = m.functions[index]!;
  return m.bytes.subarray(fn.bodyStart, fn.entryEnd);
}

/** How often `global.get state` is followed by `i32.const 2; i32.eq` (a rewind check), and by `i32.eqz` (a guard). */
function stateChecks(m: ScannedModule, index: number, state: number): { rewind: number; guards: number } {
  let rewind = 0, guards = 0;
  for (const at of m.functions[index]!.globalGets) {
    const r = new Reader(m.bytes, at + 1);
    if (r.u32() !== state) continue;
    const b = m.bytes;
    if (b[r.pos] === 0x41 && b[r.pos + 1] === 2 && b[r.pos + 2] === 0x46) rewind++;
    if (b[r.pos] === 0x45) guards++;
  }
  return { rewind, guards };
}

/** The module with a name section (`f<index>` for every defined function) if it has none: the
 * examples are linked with --strip-debug, which drops it. */
function withFunctionNames(wasm: Uint8Array): Uint8Array {
  if (readSections(wasm).some((s) => s.id === 0 && s.name === 'name')) return wasm;
  const m = scanModule(wasm);
  const entries = new ByteWriter().u32(m.functions.length - m.numImportedFunctions);
  for (let f = m.numImportedFunctions; f < m.functions.length; f++) entries.u32(f).name(`f${f}`);
  const payload = new ByteWriter().name('name').byte(1).u32(entries.length).bytes(entries.view());
  return new Uint8Array([...wasm, ...new ByteWriter().section(0, payload.view()).view()]);
}

/** The name section's function names (subsection 1), by function index. */
function functionNames(wasm: Uint8Array): Map<number, string> {
  const payload = readSections(wasm).find((s) => s.id === 0 && s.name === 'name')?.payload;
  const names = new Map<number, string>();
  if (!payload) return names;
  const r = new Reader(payload, 0);
  while (r.pos < payload.length) {
    const id = r.byte();
    const end = r.u32() + r.pos;
    if (id === 1) for (let n = r.u32(); n > 0; n--) names.set(r.u32(), r.name());
    r.pos = end;
  }
  return names;
}

/** Ifs, less those on `state == unwinding` right before them (zeroing unwind edges'): Asyncify's own. */
function ifCount(m: ScannedModule, index: number, state: number): number {
  const unwinding = Buffer.from([0x23, ...uleb(state), 0x41, 1, 0x46]);
  const onUnwinding = (at: number) => unwinding.equals(m.bytes.subarray(at - unwinding.length, at));
  return m.functions[index]!.structure.filter((e) => e.kind === 'open' && e.op === 0x04 && !onUnwinding(e.start)).length;
}

describe.each(BACKENDS)('fast paths with $name', ({ wasmOpt }) => {
  it.each(CASES)('$name: rewind copies are Asyncify\'s bodies; fast bodies check for a rewind once', async (c) => {
    const wasm = withFunctionNames(readFileSync(join(ROOT, c.file)));
    const compact = await instrument(wasm, { wasmOpt, preempt: c.preempt, fastPaths: false });
    const fast = await instrument(wasm, { wasmOpt, preempt: c.preempt });
    const before = scanModule(compact.wasm);
    const after = scanModule(fast.wasm);
    const instrumented = [...instrumentedFunctions(compact.wasm)].sort((a: number, b: number) => a - b);
    expect(instrumented.length).toBeGreaterThan(0);
    expect(fast.stats!.fastPaths).toBe(instrumented.length);
    // Unwind edges that leave dead locals to zero (unwind-liveness.ts; what a rewind may not observe
    // is checked by freezing at every call in migration-every-call and the sjlj tests).
    expect(fast.stats!.zeroedEdges).toBeGreaterThan(0);
    expect(after.functions.length).toBe(before.functions.length + instrumented.length);

    // Asyncify's state global: the one its asyncify_get_state export reads.
    const state = [...before.functions[exportedFunction(readSections(compact.wasm), 'asyncify_get_state')!]!.globalsRead][0]!;
    let fastIfs = 0, copyIfs = 0;
    instrumented.forEach((f, k) => {
      // The restore prelude and every guard `if` went; the rewind check is the one `if` added.
      expect(ifCount(after, f, state), `ifs of ${f}`).toBeLessThanOrEqual(ifCount(before, f, state));
      fastIfs += ifCount(after, f, state);
      copyIfs += ifCount(before, f, state);
      const slow = before.functions.length + k;
      expect(Buffer.from(body(after, slow)).equals(Buffer.from(body(before, f))), `copy of ${f}`).toBe(true);
      expect(after.functions[slow]!.typeIndex).toBe(before.functions[f]!.typeIndex);
      expect(before.functions[f]!.globalsRead.has(state)).toBe(true);
      expect(stateChecks(before, f, state).rewind).toBeGreaterThan(0);
      expect(stateChecks(after, f, state)).toEqual({ rewind: 1, guards: 0 });
      expect(after.functions[f]!.calls.has(slow), 'return_call of the copy').toBe(true);
    });
    expect(fastIfs).toBeLessThan(copyIfs);
    // Names survive instrumentation (function names of the plain module, shifted by one import with
    // preemption; a name wasm-ld gave several functions comes out deduplicated by the Asyncify tool),
    // and each copy is named after its function.
    const plainNames = functionNames(wasm);
    const names = functionNames(fast.wasm);
    const shift = c.preempt ? 1 : 0;
    const unique = [...plainNames].filter(([, name]) => [...plainNames.values()].filter((n) => n === name).length === 1);
    expect(unique.length).toBeGreaterThan(plainNames.size / 2);
    for (const [f, name] of unique) if (f >= scanModule(wasm).numImportedFunctions) expect(names.get(f + shift)).toBe(name);
    instrumented.forEach((f, k) => {
      const name = names.get(f);
      expect(names.get(before.functions.length + k)).toBe(name === undefined ? undefined : `${name}$rewind`);
    });
    expect(instrumented.filter((f) => names.has(f)).length).toBeGreaterThan(instrumented.length / 2);
    // Every other function is untouched.
    for (const fn of before.functions) {
      if (fn.import || instrumented.includes(fn.index)) continue;
      expect(Buffer.from(body(after, fn.index)).equals(Buffer.from(body(before, fn.index)))).toBe(true);
    }
  }, 120_000);
});

describe('wmig instrument --compact', () => {
  it('writes Asyncify\'s bodies only: smaller, and it runs, freezes and thaws like the default', async () => {
    const work = tempDir();
    const modules = { fast: join(work, 'fast.wasm'), compact: join(work, 'compact.wasm') };
    expect((await wmig(['instrument', '--cache-dir', CACHE_DIR, example('sjlj'), '-o', modules.fast])).status).toBe(0);
    expect((await wmig(['instrument', '--cache-dir', CACHE_DIR, '--compact', example('sjlj'), '-o', modules.compact])).status).toBe(0);
    expect(statSync(modules.compact).size).toBeLessThan(statSync(modules.fast).size);
    const whole = await wmig(['run', modules.fast]);
    expect(whole.status).toBe(0);
    for (const module of Object.values(modules)) {
      const snapshot = join(work, `${basename(module)}.wmig`);
      const frozen = await wmig(['run', '--freeze-at-call', '3', '--snapshot', snapshot, module]);
      expect(frozen.status).toBe(ExitCode.FROZEN);
      const thawed = await wmig(['thaw', snapshot]);
      expect(thawed.status).toBe(whole.status);
      expect(Buffer.concat([frozen.stdout, thawed.stdout]).toString()).toBe(whole.stdout.toString());
    }
    removeDir(work);
  }, 120_000);
});

describe('fast-path output read back by binaryen 108 (Debian 12\'s wasm-opt)', () => {
  // Binaryen before 117 reads a block with parameters as if it had none, silently: a module with one
  // came back from a plain round trip printing nothing. Fast bodies use no such block.
  it.each([{ flags: [] as string[] }, { flags: ['--preempt'] }])('a round trip through it ($flags) runs, freezes and thaws as before', async ({ flags }) => {
    const work = tempDir();
    const fast = join(work, 'fast.wasm');
    const roundTrip = join(work, 'round-trip.wasm');
    expect((await wmig(['instrument', '--cache-dir', CACHE_DIR, ...flags, example('sjlj'), '-o', fast])).status).toBe(0);
    const wasmOpt = bundledWasmOpt();
    expect(wasmOpt, 'npm test\'s pretest installs it').not.toBeNull();
    const copied = spawnSync(wasmOpt!, [fast, '--all-features', '-o', roundTrip], { encoding: 'utf8' });
    expect(copied.status, copied.stderr).toBe(0);
    const whole = await wmig(['run', example('sjlj')]);
    expect(whole.status).toBe(0);
    const rerun = await wmig(['run', roundTrip]);
    expect(rerun.status).toBe(whole.status);
    expect(rerun.stdout.toString()).toBe(whole.stdout.toString());
    const snapshot = join(work, 'frozen.wmig');
    const frozen = await wmig(['run', '--freeze-at-call', '3', '--snapshot', snapshot, roundTrip]);
    expect(frozen.status, frozen.stderr.toString()).toBe(ExitCode.FROZEN);
    const thawed = await wmig(['thaw', snapshot]);
    expect(thawed.status).toBe(whole.status);
    expect(Buffer.concat([frozen.stdout, thawed.stdout]).toString()).toBe(whole.stdout.toString());
    removeDir(work);
  }, 120_000);
});

describe('thaw --module with the plain module', () => {
  it.each([{ flags: ['--compact'] }, { flags: ['--preempt'] }, { flags: ['--preempt', '--compact'] }])('instruments it as the frozen run was ($flags), from what the snapshot records', async ({ flags }) => {
    const work = tempDir();
    const snapshot = join(work, 'bare.wmig');
    const whole = await wmig(['run', example('sjlj')]);
    expect(whole.status).toBe(0);
    const frozen = await wmig(['run', '--cache-dir', CACHE_DIR, ...flags, '--no-embed-module', '--freeze-at-call', '3', '--snapshot', snapshot, example('sjlj')]);
    expect(frozen.status, frozen.stderr.toString()).toBe(ExitCode.FROZEN);
    const thawed = await wmig(['thaw', '--cache-dir', CACHE_DIR, '--module', example('sjlj'), snapshot]);
    expect(thawed.status, thawed.stderr.toString()).toBe(whole.status);
    expect(Buffer.concat([frozen.stdout, thawed.stdout]).toString()).toBe(whole.stdout.toString());
    removeDir(work);
  }, 120_000);
});
