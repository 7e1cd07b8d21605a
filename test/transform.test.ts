import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultCacheDir,
  instrument,
  instrumentCached,
  readInstrumentInfo,
  TRANSFORM_VERSION,
  TransformError,
  type TransformErrorReason,
} from '../transforms/index.js';
import { selectBackend } from '../transforms/select-backend.js';
import { readSections } from '../transforms/wasm-binary.js';
import { BACKENDS } from './helpers/backends.js';
import { wat } from './helpers/wat.js';

// Globals 0 and 3 are immutable, 1, 2 and 4 mutable: export indices must follow the
// global index space, not a count of mutable globals. $step is a separate frame so the
// unwind crosses two functions, and $sum accumulates fd_write results in a local, so a
// rewind that lost locals, globals or return values would change what the host sees.
const PROGRAM_WAT = `
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $k i32 (i32.const 7))
  (global $sp (mut i32) (i32.const 1024))
  (global $acc (mut i64) (i64.const 1))
  (global $half f32 (f32.const 0.5))
  (global $ratio (mut f64) (f64.const 1))
  (func $step (param $i i32) (result i32)
    (global.set $acc
      (i64.add (i64.mul (global.get $acc) (i64.const 3))
               (i64.extend_i32_u (i32.add (local.get $i) (global.get $k)))))
    (global.set $ratio (f64.mul (global.get $ratio) (f64.const 1.25)))
    (global.set $sp (i32.add (global.get $sp) (i32.const 16)))
    (call $fd_write
      (i32.wrap_i64 (global.get $acc))
      (global.get $sp)
      (local.get $i)
      (i32.trunc_f64_u (global.get $ratio))))
  (func (export "_start") (local $i i32) (local $sum i32)
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (call $step (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 5))))
    (call $proc_exit (i32.add (local.get $sum) (global.get $sp))))
)`;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function reasonOf(fn: () => unknown): Promise<TransformErrorReason> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TransformError);
    return (e as TransformError).reason;
  }
  throw new Error('expected a TransformError, nothing was thrown');
}

const program = wat(PROGRAM_WAT, binaryen.Features.MutableGlobals);

describe.each(BACKENDS)('instrument ($name)', async ({ name, wasmOpt }) => {
  const result = await instrument(program, { wasmOpt });
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(result.wasm as BufferSource)).map((e) => e.name);

  it('produces a valid module with the Asyncify API, memory and _start', async () => {
    expect(result.alreadyInstrumented).toBe(false);
    expect(result.stats?.tool.startsWith(`${name}-`)).toBe(true);
    expect(WebAssembly.validate(result.wasm as BufferSource)).toBe(true);
    expect(exports).toEqual(
      expect.arrayContaining([
        'memory',
        '_start',
        'asyncify_start_unwind',
        'asyncify_stop_unwind',
        'asyncify_start_rewind',
        'asyncify_stop_rewind',
        'asyncify_get_state',
      ]),
    );
  });

  it('exports exactly the mutable globals, named by global index (5: the reserved-pages counter it adds)', async () => {
    expect(exports.filter((name) => name.startsWith('wmig.global.')).sort()).toEqual([
      'wmig.global.1',
      'wmig.global.2',
      'wmig.global.4',
      'wmig.global.5',
    ]);
    expect(result.info.globals).toEqual([
      { export: 'wmig.global.1', index: 1, type: 'i32' },
      { export: 'wmig.global.2', index: 2, type: 'i64' },
      { export: 'wmig.global.4', index: 4, type: 'f64' },
      { export: 'wmig.global.5', index: 5, type: 'i32' },
    ]);
    expect(result.info.reservedPages).toBe(16);
  });

  it('records version, input digest and freeze points in the wmig.instrument section', async () => {
    const info = readInstrumentInfo(result.wasm);
    expect(info).toEqual(result.info);
    expect(info?.transformVersion).toBe(TRANSFORM_VERSION);
    expect(info?.originalDigest).toBe(sha256(program));
    expect(info?.freezePoints).toEqual(['wasi_snapshot_preview1.fd_write']);
  });

  it('makes every WASI import except proc_exit a freeze point, and nothing else', async () => {
    const mixed = wat(`
      (module
        (import "env" "trace" (func $trace (param i32)))
        (import "wasi_unstable" "fd_read" (func $old_read (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start")
          (call $trace (i32.const 1))
          (drop (call $old_read (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
          (drop (call $clock (i32.const 0) (i64.const 0) (i32.const 0)))
          (call $exit (i32.const 0))))`);
    expect((await instrument(mixed, { wasmOpt })).info.freezePoints.sort()).toEqual([
      'wasi_snapshot_preview1.clock_time_get',
      'wasi_unstable.fd_read',
    ]);
  });

  it('reports its stages in order', async () => {
    const stages: string[] = [];
    await instrument(program, { wasmOpt, onProgress: (stage) => stages.push(stage) });
    expect(stages).toEqual(['scan', 'reserve', 'parse', 'scope', 'asyncify', 'emit']);
    stages.length = 0;
    await instrument(program, { wasmOpt, optimizeModule: true, onProgress: (stage) => stages.push(stage) });
    expect(stages).toEqual(['scan', 'reserve', 'parse', 'scope', 'asyncify', 'optimize', 'emit']);
  });

  it('returns an already-instrumented module unchanged', async () => {
    const again = await instrument(result.wasm, { wasmOpt });
    expect(again.alreadyInstrumented).toBe(true);
    expect(Buffer.from(again.wasm).equals(Buffer.from(result.wasm))).toBe(true);
    expect(again.info).toEqual(result.info);
  });

  it('reads no info from a plain module', async () => {
    expect(readInstrumentInfo(program)).toBeNull();
  });

  it('drops DWARF (every code offset moves) and keeps the name section', async () => {
    // Not DWARF at all: a tool that tried to read or carry it would fail or keep it.
    const dwarf = Buffer.from([0x00, 0x0e, 0x0b, ...Buffer.from('.debug_info'), 0xde, 0xad]);
    const out = await instrument(new Uint8Array([...program, ...dwarf]), { wasmOpt });
    const sections = readSections(out.wasm);
    expect(sections.filter((s) => s.id === 0).map((s) => s.name)).toEqual(expect.arrayContaining(['name', 'wmig.instrument']));
    expect(sections.some((s) => s.name?.startsWith('.debug_'))).toBe(false);
    const code = (wasm: Uint8Array) => Buffer.from(readSections(wasm).find((s) => s.id === 10)!.payload);
    expect(code(out.wasm).equals(code(result.wasm))).toBe(true);
  });
});

describe.each(BACKENDS)('refusals ($name)', ({ wasmOpt }) => {
  it('refuses a module Asyncify-ed by another tool', async () => {
    const module = binaryen.readBinary(program);
    binaryen.setPassArgument('asyncify-imports', 'wasi_snapshot_preview1.fd_write');
    module.runPasses(['asyncify']);
    binaryen.clearPassArguments();
    const foreign = module.emitBinary();
    module.dispose();
    expect(await reasonOf(() => instrument(foreign, { wasmOpt }))).toBe('foreign-asyncify');
    await expect(instrument(foreign, { wasmOpt })).rejects.toThrow(/another tool/);
  });

  it('refuses bytes that are not wasm', async () => {
    expect(await reasonOf(() => instrument(new TextEncoder().encode('#!/bin/sh\necho hi\n'), { wasmOpt }))).toBe('not-wasm');
    expect(await reasonOf(() => readInstrumentInfo(new Uint8Array([1, 2, 3])))).toBe('not-wasm');
  });

  it('refuses a truncated module', async () => {
    expect(await reasonOf(() => instrument(program.subarray(0, program.length - 3), { wasmOpt }))).toBe('not-wasm');
  });

  it('refuses a well-framed module whose code does not validate', async () => {
    // One function declared to return i32 whose body is empty.
    const invalid = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
      0x03, 0x02, 0x01, 0x00,
      0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
    ]);
    expect(await reasonOf(() => instrument(invalid, { wasmOpt }))).toBe('not-wasm');
  });

  it('refuses a mutable global it could not save', async () => {
    const simd = wat(
      `(module (global $v (mut v128) (v128.const i64x2 0 0)) (func (export "_start") (global.set $v (global.get $v))))`,
      binaryen.Features.MutableGlobals | binaryen.Features.SIMD128,
    );
    expect(await reasonOf(() => instrument(simd, { wasmOpt }))).toBe('unsupported');
  });

  it('refuses a malformed wmig.instrument section', async () => {
    const module = binaryen.readBinary(program);
    module.addCustomSection('wmig.instrument', new TextEncoder().encode('{"transformVersion":1}'));
    const bad = module.emitBinary();
    module.dispose();
    expect(await reasonOf(() => readInstrumentInfo(bad))).toBe('not-wasm');
  });
});

describe.each(BACKENDS)('unwind and rewind ($name)', async ({ wasmOpt }) => {
  const { wasm, info } = await instrument(program, { wasmOpt });
  const compiled = new WebAssembly.Module(wasm as BufferSource);
  const DATA = 4096; // Asyncify's save area; the program never touches memory
  const DATA_SIZE = 1024;

  class Exit {
    constructor(readonly code: number) {}
  }

  interface Guest {
    exports: Record<string, any>;
    calls: number[][];
    /** Arguments of the call during which the guest was unwound, if it was. */
    unwoundAt?: number[];
    rewound: boolean;
  }

  /** unwindAtCall: unwind on the fd_write call with this 0-based number. */
  function start(calls: number[][] = [], unwindAtCall = -1): Guest {
    const guest: Guest = { exports: {}, calls, rewound: false };
    const fd_write = (...args: number[]): number => {
      if (guest.exports.asyncify_get_state() === 2) {
        guest.exports.asyncify_stop_rewind();
        guest.rewound = true;
      } else if (guest.calls.length === unwindAtCall && !guest.unwoundAt) {
        guest.unwoundAt = args;
        const view = new DataView(guest.exports.memory.buffer);
        view.setInt32(DATA, DATA + 8, true);
        view.setInt32(DATA + 4, DATA + 8 + DATA_SIZE, true);
        guest.exports.asyncify_start_unwind(DATA);
        return 0; // ignored: the guest is unwinding
      }
      guest.calls.push(args);
      return (args[0]! ^ args[1]! ^ args[2]! ^ args[3]!) & 0xff;
    };
    const proc_exit = (code: number): never => {
      throw new Exit(code);
    };
    const instance = new WebAssembly.Instance(compiled, { wasi_snapshot_preview1: { fd_write, proc_exit } });
    guest.exports = instance.exports as Record<string, any>;
    return guest;
  }

  function runToExit(guest: Guest): number {
    try {
      guest.exports._start();
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw e;
    }
    throw new Error('_start returned without proc_exit');
  }

  /** Unwinds at the given call, moves memory (and globals if asked) to a new instance, rewinds there. */
  function migrate(unwindAtCall: number, restoreGlobals: boolean): { calls: number[][]; exit: number; frozen: Guest; thawed: Guest } {
    const frozen = start([], unwindAtCall);
    frozen.exports._start();
    expect(frozen.exports.asyncify_get_state()).toBe(1);
    frozen.exports.asyncify_stop_unwind();
    expect(frozen.exports.asyncify_get_state()).toBe(0);

    const thawed = start([...frozen.calls]);
    new Uint8Array(thawed.exports.memory.buffer).set(new Uint8Array(frozen.exports.memory.buffer));
    if (restoreGlobals) {
      for (const g of info.globals) thawed.exports[g.export].value = frozen.exports[g.export].value;
    }
    thawed.exports.asyncify_start_rewind(DATA);
    const exit = runToExit(thawed);
    return { calls: thawed.calls, exit, frozen, thawed };
  }

  const baseline = start();
  const baselineExit = runToExit(baseline);

  it('runs uninterrupted like the original module', async () => {
    const original = new WebAssembly.Instance(new WebAssembly.Module(program as BufferSource), {
      wasi_snapshot_preview1: {
        fd_write: (...args: number[]) => {
          calls.push(args);
          return (args[0]! ^ args[1]! ^ args[2]! ^ args[3]!) & 0xff;
        },
        proc_exit: (code: number) => {
          throw new Exit(code);
        },
      },
    });
    const calls: number[][] = [];
    expect(() => (original.exports as any)._start()).toThrow(Exit);
    expect(calls).toEqual(baseline.calls);
    expect(baseline.calls).toHaveLength(5);
  });

  it.each([0, 2, 4])('resumes in a new instance after unwinding at call %i, with the same observable run', async (at) => {
    const { calls, exit, frozen, thawed } = migrate(at, true);
    expect(frozen.unwoundAt).toEqual(baseline.calls[at]);
    expect(thawed.rewound).toBe(true);
    expect(calls).toEqual(baseline.calls);
    expect(exit).toBe(baselineExit);
  });

  it('diverges if the exported globals are not restored (so the globals matter)', async () => {
    const { calls } = migrate(2, false);
    expect(calls).not.toEqual(baseline.calls);
  });
});

describe.each(BACKENDS)('instrumentCached ($name)', ({ wasmOpt }) => {
  let cacheDir: string;
  beforeEach(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'wmig-transform-test-'));
  });
  afterEach(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('computes and stores on a miss, then serves identical bytes from the cache', async () => {
    const first = await instrumentCached(program, { cacheDir, wasmOpt });
    expect(first.cached).toBe(false);
    const tool = (await selectBackend(wasmOpt)).id;
    expect(first.cachePath).toBe(join(cacheDir, `${sha256(program)}.t${TRANSFORM_VERSION}.${tool}.wasm`));
    expect(readFileSync(first.cachePath!).equals(Buffer.from(first.wasm))).toBe(true);
    expect(readdirSync(cacheDir)).toHaveLength(1); // no temp file left behind

    const stages: string[] = [];
    const second = await instrumentCached(program, { cacheDir, wasmOpt, onProgress: (s) => stages.push(s) });
    expect(second.cached).toBe(true);
    expect(stages).toEqual(['cache-hit']);
    expect(Buffer.from(second.wasm).equals(Buffer.from(first.wasm))).toBe(true);
    expect(second.info).toEqual(first.info);
  });

  it('rewrites a corrupted cache file', async () => {
    const first = await instrumentCached(program, { cacheDir, wasmOpt });
    writeFileSync(first.cachePath!, 'garbage');
    const again = await instrumentCached(program, { cacheDir, wasmOpt });
    expect(again.cached).toBe(false);
    expect(readFileSync(first.cachePath!).equals(Buffer.from(first.wasm))).toBe(true);
  });

  it('rewrites a cache file damaged outside its wmig section', async () => {
    const first = await instrumentCached(program, { cacheDir, wasmOpt });
    const damaged = Buffer.from(first.wasm);
    damaged[damaged.length >> 1] = 0xff; // lands in the code section: 0xff is no opcode
    expect(WebAssembly.validate(damaged)).toBe(false);
    expect(readInstrumentInfo(damaged)).toEqual(first.info); // the section alone looks fine
    writeFileSync(first.cachePath!, damaged);
    const again = await instrumentCached(program, { cacheDir, wasmOpt });
    expect(again.cached).toBe(false);
    expect(readFileSync(first.cachePath!).equals(Buffer.from(first.wasm))).toBe(true);
  });

  it('rewrites a cache file made from a different module', async () => {
    const first = await instrumentCached(program, { cacheDir, wasmOpt });
    const other = await instrument(wat(PROGRAM_WAT.replace('(i32.const 1024)', '(i32.const 2048)'), binaryen.Features.MutableGlobals), { wasmOpt });
    expect(other.info.originalDigest).not.toBe(first.info.originalDigest);
    writeFileSync(first.cachePath!, other.wasm);
    const again = await instrumentCached(program, { cacheDir, wasmOpt });
    expect(again.cached).toBe(false);
    expect(readInstrumentInfo(readFileSync(first.cachePath!))?.originalDigest).toBe(sha256(program));
  });

  it('does not cache an already-instrumented input', async () => {
    const instrumented = (await instrument(program, { wasmOpt })).wasm;
    const result = await instrumentCached(instrumented, { cacheDir, wasmOpt });
    expect(result).toMatchObject({ alreadyInstrumented: true, cached: false, cachePath: null });
    expect(result.wasm).toBe(instrumented);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('reports an unwritable cache directory as an io error', async () => {
    const notADir = join(cacheDir, 'file');
    writeFileSync(notADir, '');
    expect(await reasonOf(() => instrumentCached(program, { cacheDir: notADir, wasmOpt }))).toBe('io');
  });
});

describe('instrumentCached: one entry per tool', () => {
  it('keeps the outputs of the two tools apart, since they differ', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'wmig-transform-test-'));
    try {
      const [js, native] = await Promise.all(BACKENDS.map(({ wasmOpt }) => instrumentCached(program, { cacheDir, wasmOpt })));
      expect(Buffer.from(js!.wasm).equals(Buffer.from(native!.wasm))).toBe(false);
      expect(js!.cachePath).not.toBe(native!.cachePath);
      expect(readdirSync(cacheDir)).toHaveLength(2);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('defaultCacheDir', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('prefers $WMIG_CACHE_DIR, then $XDG_CACHE_HOME/wmig', async () => {
    vi.stubEnv('WMIG_CACHE_DIR', '/somewhere/wmig-cache');
    vi.stubEnv('XDG_CACHE_HOME', '/xdg');
    expect(defaultCacheDir()).toBe('/somewhere/wmig-cache');
    vi.stubEnv('WMIG_CACHE_DIR', '');
    expect(defaultCacheDir()).toBe(join('/xdg', 'wmig'));
  });
});
