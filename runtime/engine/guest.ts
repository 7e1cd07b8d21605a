import { isInvokeImport, LONGJMP_UNWIND_NAME, PREEMPT_IMPORT, type InstrumentInfo } from '../../transforms/index.js';
import { WmigError } from '../errors.js';
import type { GlobalValue, MemorySource, Snapshot, StackState } from '../snapshot/types.js';
import { WASM_PAGE_SIZE } from '../snapshot/types.js';
import { ProcExit, type WasiHost } from '../wasi/host.js';
import { AsyncifyState, BorrowedArea, ReservedArea, type AsyncifyArea, type AsyncifyExports } from './asyncify.js';
import { FreezeInterrupt } from './interrupt.js';

export type GuestOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'unwound' }
  | { kind: 'trapped'; message: string };

/** Decides, before each freeze-point call, whether to freeze there instead of making the call. */
export type FreezeCheck = (callNumber: number, importName: string) => boolean;

/** What the guest contributes to a snapshot (the host adds its own part). */
export interface GuestCapture {
  memory: MemorySource;
  globals: GlobalValue[];
  stack: StackState;
  /** Freeze-point calls completed so far; the pending call will be number callCount + 1. */
  callCount: number;
}

type GuestExports = AsyncifyExports & {
  memory: WebAssembly.Memory;
  _start: () => void;
  [name: string]: unknown;
};

type Wrapped = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown,
  g?: unknown, h?: unknown, i?: unknown) => unknown;

const WASI_MODULE = 'wasi_snapshot_preview1';

/** Imports of the setjmp scheme wmig had before snapshot format v3 (examples/include/setjmp.h then). */
const OLD_SJLJ_IMPORTS = new Set(['wmig.setjmp', 'wmig.longjmp']);

/**
 * What `wmig.preempt` returns to a module instrumented before transform version 16 (no
 * `preemptFlag` in its info), whose checks count fuel down and take the next fuel from it: such a
 * module, from an older snapshot, still reaches a preemption point every so many loop iterations.
 */
const LEGACY_FUEL = 10_000;

/**
 * One instance of an instrumented WASI command, run synchronously on the calling thread.
 * It knows how to start, unwind at a freeze point, capture, restore and rewind; it does not know
 * about threads, files or snapshots on disk.
 */
export class Guest {
  readonly #exports: GuestExports;
  readonly #info: InstrumentInfo;
  readonly #buffer: AsyncifyArea;
  #freezeCheck: FreezeCheck;
  #callCount = 0;
  /** Set between an unwind and the capture/rewind that follows it. */
  #stack: StackState | null = null;
  /** Set while rewinding: the import the guest must re-enter. */
  #rewindingTo: string | null = null;
  /** Between asyncify_start_unwind and asyncify_stop_unwind. */
  #unwinding = false;
  /** The jmp_buf of a longjmp whose unwind is under way (it stops at the nearest invoke), or null. */
  #longjmpEnv: number | null = null;
  /** The flag the preemption checks read (transforms/preempt.ts), when the module has them. */
  readonly #preemptFlag: WebAssembly.Global | undefined;

  private constructor(instance: WebAssembly.Instance, info: InstrumentInfo, freezeCheck: FreezeCheck) {
    this.#exports = instance.exports as GuestExports;
    this.#info = info;
    this.#freezeCheck = freezeCheck;
    if (!(this.#exports.memory instanceof WebAssembly.Memory) || typeof this.#exports._start !== 'function') {
      throw new WmigError('BAD_MODULE', 'module is not a WASI command: it must export "memory" and "_start"');
    }
    if (info.preemptFlag !== undefined) this.#preemptFlag = this.#exports[info.preemptFlag] as WebAssembly.Global;
    const memory = this.#exports.memory;
    this.#buffer = info.reservedPages ? new ReservedArea(memory, info.reservedPages) : new BorrowedArea(memory);
  }

  static instantiate(module: WebAssembly.Module, info: InstrumentInfo, host: WasiHost, freezeCheck: FreezeCheck): Guest {
    let guest: Guest | undefined;
    let table: WebAssembly.Table | undefined;
    const imports: Record<string, Record<string, unknown>> = { [WASI_MODULE]: {}, [PREEMPT_IMPORT.module]: {} };
    const freezePoints = new Set(info.freezePoints);
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      const qualified = `${imp.module}.${imp.name}`;
      if (qualified === `${PREEMPT_IMPORT.module}.${PREEMPT_IMPORT.base}`) {
        // What it returns is stored in the flag: 0, until the next request sets it again.
        const next = info.preemptFlag === undefined ? LEGACY_FUEL : 0;
        imports[PREEMPT_IMPORT.module]![PREEMPT_IMPORT.base] = () => {
          guest!.beforePreempt();
          return next;
        };
        continue;
      }
      if (qualified === LONGJMP_UNWIND_NAME || isInvokeImport(imp.module, imp.name)) {
        if (!freezePoints.has(qualified) || (qualified !== LONGJMP_UNWIND_NAME && info.table === undefined)) {
          throw new WmigError('BAD_MODULE', `module imports ${qualified} but was not instrumented for it (transform version ${info.transformVersion}); instrument the original module again`);
        }
        (imports[imp.module] ??= {})[imp.name] = qualified === LONGJMP_UNWIND_NAME
          ? (env: number) => guest!.longjmpUnwind(env)
          : invoke(() => guest!, () => table!, imp.name);
        continue;
      }
      const impl = imp.module === WASI_MODULE ? host.imports[imp.name] : undefined;
      if (!impl) {
        const hint = OLD_SJLJ_IMPORTS.has(qualified) ? ' (it was built with the setjmp.h of an earlier wmig: rebuild it with the current examples/include/setjmp.h)' : '';
        throw new WmigError('BAD_MODULE', `module imports ${imp.module}.${imp.name}, which wmig does not provide${hint}`);
      }
      imports[WASI_MODULE]![imp.name] = freezePoints.has(qualified)
        ? guestFreezePoint(() => guest!, qualified, impl as unknown as Wrapped)
        : impl;
    }
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
    } catch (error) {
      throw new WmigError('BAD_MODULE', `cannot instantiate module: ${(error as Error).message}`, { cause: error });
    }
    guest = new Guest(instance, info, freezeCheck);
    if (info.table !== undefined) table = guest.#exports[info.table] as WebAssembly.Table;
    host.setMemory(guest.memory);
    return guest;
  }

  get memory(): WebAssembly.Memory {
    return this.#exports.memory;
  }

  get callCount(): number {
    return this.#callCount;
  }

  set freezeCheck(check: FreezeCheck) {
    this.#freezeCheck = check;
  }

  /** Runs the program from its start. */
  start(): GuestOutcome {
    return this.#enter();
  }

  /** Continues after an unwind (leave-running freeze) or after `restore`: rewinds into the pending call. */
  resume(): GuestOutcome {
    const stack = this.#stack;
    if (!stack) throw new WmigError('INTERNAL', 'resume without an unwound stack');
    const ptr = this.#buffer.borrow(stack.data);
    this.#rewindingTo = stack.pendingImport;
    this.#stack = null;
    this.#exports.asyncify_start_rewind(ptr);
    return this.#enter();
  }

  /** The state to put in a snapshot. Valid after an 'unwound' outcome, until the guest runs again. */
  capture(): GuestCapture {
    if (!this.#stack) throw new WmigError('INTERNAL', 'capture without an unwound stack');
    const globals = this.#info.globals.map((g): GlobalValue => ({
      name: g.export,
      type: g.type,
      // The preemption flag is saved clear: an interrupt may set it at any time, also here.
      value: g.export === this.#info.preemptFlag ? 0 : ((this.#exports[g.export] as WebAssembly.Global).value as number | bigint),
    }));
    return {
      memory: { bytes: new Uint8Array(this.memory.buffer) },
      globals,
      stack: this.#stack,
      callCount: this.#callCount,
    };
  }

  /** Loads a snapshot's memory, globals and stack into this fresh instance; `resume` then continues it. */
  restore(snapshot: Snapshot, callCount: number): void {
    const { memory } = this;
    const currentPages = memory.buffer.byteLength / WASM_PAGE_SIZE;
    const { pageCount, pages } = snapshot.memory;
    if (pageCount < currentPages) {
      throw new WmigError('MODULE_MISMATCH', `snapshot memory (${pageCount} pages) is smaller than the module's initial memory (${currentPages})`);
    }
    try {
      if (pageCount > currentPages) memory.grow(pageCount - currentPages);
    } catch (error) {
      throw new WmigError('MODULE_MISMATCH', `cannot grow memory to ${pageCount} pages: ${(error as Error).message}`);
    }
    const bytes = new Uint8Array(memory.buffer);
    // Pages absent from the snapshot are zero; only the initial pages (data segments) may not be.
    let next = 0;
    for (const page of pages) {
      if (page.index > next && next < currentPages) bytes.fill(0, next * WASM_PAGE_SIZE, Math.min(page.index, currentPages) * WASM_PAGE_SIZE);
      bytes.set(page.data, page.index * WASM_PAGE_SIZE);
      next = page.index + 1;
    }
    if (next < currentPages) bytes.fill(0, next * WASM_PAGE_SIZE, currentPages * WASM_PAGE_SIZE);

    const declared = new Map(this.#info.globals.map((g) => [g.export, g.type]));
    if (declared.size !== snapshot.globals.length) {
      throw new WmigError('MODULE_MISMATCH', `snapshot has ${snapshot.globals.length} globals, module exports ${declared.size}`);
    }
    for (const g of snapshot.globals) {
      if (declared.get(g.name) !== g.type) {
        throw new WmigError('MODULE_MISMATCH', `snapshot global ${g.name} (${g.type}) does not match the module`);
      }
      (this.#exports[g.name] as WebAssembly.Global).value = g.value;
    }
    this.#stack = { data: snapshot.stack.data, pendingImport: snapshot.stack.pendingImport };
    this.#callCount = callCount;
  }

  /** Called by every freeze-point import before it does its work. Returns true when it must not run. */
  beforeCall(importName: string): boolean {
    if (this.#rewindingTo !== null) {
      this.#finishRewind(importName);
    } else {
      this.#assertNotUnwinding(importName);
      if (this.#freezeCheck(this.#callCount + 1, importName)) {
        this.#startUnwind(importName);
        return true;
      }
    }
    this.#callCount++;
    return false;
  }

  #finishRewind(importName: string): void {
    this.#exports.asyncify_stop_rewind();
    this.#buffer.release();
    const expected = this.#rewindingTo;
    this.#rewindingTo = null;
    if (expected !== importName) {
      throw new WmigError('INTERNAL', `rewind reached ${importName}, but the snapshot was taken in ${expected}`);
    }
  }

  /**
   * Has the guest call `wmig.preempt` at its next preemption check (a loop header or the entry of
   * a recursive function); nothing for a module without them. The worker calls it when a freeze is
   * requested, from an interrupt that may come while the guest computes.
   */
  requestPreempt(): void {
    if (this.#preemptFlag) this.#preemptFlag.value = 1;
  }

  /**
   * Called by the `wmig.preempt` import, which the transform's checks call once requestPreempt has
   * set their flag. Freezes only on a pending request (the worker's shared flag), not on a call
   * number: preemption points are not WASI calls and do not count as calls.
   */
  beforePreempt(): void {
    const name = `${PREEMPT_IMPORT.module}.${PREEMPT_IMPORT.base}`;
    // Cleared here, not only by the stub's store of the result, which an unwind skips.
    if (this.#preemptFlag) this.#preemptFlag.value = 0;
    if (this.#rewindingTo !== null) {
      this.#finishRewind(name);
      return;
    }
    this.#assertNotUnwinding(name);
    if (this.#freezeCheck(0, name)) this.#startUnwind(name);
  }

  /**
   * The `wmig.longjmp_unwind` import (wmig-sjlj.c's longjmp, which has recorded its jmp_buf and
   * value in linear memory): unwinds the stack up to the nearest invoke, which lands it.
   */
  longjmpUnwind(env: number): void {
    if (this.#rewindingTo !== null) this.#finishRewind(LONGJMP_UNWIND_NAME); // a rewind never targets it: throws
    this.#assertNotUnwinding(LONGJMP_UNWIND_NAME);
    this.#longjmpEnv = env;
    this.#beginUnwind();
  }

  /** Called by an invoke when its callee has returned: if that was a longjmp's unwind, it stops here. */
  afterInvoke(): void {
    if (this.#longjmpEnv !== null) this.#endLongjmpUnwind();
  }

  /** Stops a longjmp's unwind (the frames it crossed are gone for good); returns its jmp_buf. */
  #endLongjmpUnwind(): number {
    const env = this.#longjmpEnv!;
    this.#stopUnwind();
    this.#longjmpEnv = null;
    this.#buffer.release();
    return env;
  }

  #stopUnwind(): void {
    this.#exports.asyncify_stop_unwind();
    this.#unwinding = false;
  }

  #beginUnwind(): void {
    this.#unwinding = true;
    this.#exports.asyncify_start_unwind(this.#buffer.borrow());
  }

  #assertNotUnwinding(importName: string): void {
    // A call while unwinding means the instrumentation missed a path: fail loudly. (Tracked here
    // rather than asked of the module: that call cost more than a whole clock_time_get.)
    if (this.#unwinding) {
      throw new WmigError('INTERNAL', `${importName} was called while the stack was unwinding`);
    }
  }

  /** A blocking call gave up for a freeze before it had any effect: unwind as if before the call. */
  interruptCall(importName: string): void {
    this.#callCount--;
    this.#startUnwind(importName);
  }

  #startUnwind(importName: string): void {
    this.#beginUnwind();
    this.#stack = { data: new Uint8Array(0), pendingImport: importName };
  }

  #enter(): GuestOutcome {
    try {
      this.#exports._start();
    } catch (error) {
      if (error instanceof ProcExit) return { kind: 'exited', code: error.code };
      if (error instanceof WmigError) throw error;
      if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) {
        return { kind: 'trapped', message: error.message };
      }
      throw error;
    }
    if (this.#exports.asyncify_get_state() !== AsyncifyState.Unwinding) return { kind: 'exited', code: 0 };
    if (this.#longjmpEnv !== null) {
      // No invoke on the way: no function on the stack called setjmp with this jmp_buf.
      const env = this.#endLongjmpUnwind();
      return { kind: 'trapped', message: `longjmp to the jmp_buf at 0x${env.toString(16)}, which no active setjmp filled (never set, or its function has returned)` };
    }
    this.#stopUnwind();
    this.#stack = { data: this.#buffer.unwoundData(), pendingImport: this.#stack!.pendingImport };
    this.#buffer.release();
    return { kind: 'unwound' };
  }
}

/**
 * An `env.invoke_*` import: calls table entry `fn` with the arguments. A freeze's unwind passes
 * through it and a rewind re-enters it like any call; a longjmp's unwind stops at it. The name
 * spells the callee's signature, one letter for the result and one per parameter (`invoke_vii`:
 * two), so up to 8 parameters take a fixed-arity path (no rest-args array per call; the callee
 * ignores the extra undefineds).
 */
function invoke(guest: () => Guest, table: () => WebAssembly.Table, name: string): Wrapped {
  const params = name.length - 'invoke_'.length - 1;
  if (params > 8) {
    return ((fn: number, ...args: unknown[]) => {
      const result = (entry(table(), fn) as (...a: unknown[]) => unknown)(...args);
      guest().afterInvoke();
      return result;
    }) as Wrapped;
  }
  return (fn, a, b, c, d, e, f, g, h) => {
    const result = entry(table(), fn as number)(a, b, c, d, e, f, g, h);
    guest().afterInvoke();
    return result;
  };
}

/** Table entry `fn`; a null one traps, as a call_indirect through it would (an index past the end throws RangeError, also a trap). */
function entry(table: WebAssembly.Table, fn: number): Wrapped {
  const callee = table.get(fn) as Wrapped | null;
  if (callee === null) throw new WebAssembly.RuntimeError(`invoke of table entry ${fn}, which is null`);
  return callee;
}

/** Wraps a WASI import so that it can freeze instead of running (fixed arity: no rest-args cost). */
function guestFreezePoint(guest: () => Guest, name: string, impl: Wrapped): Wrapped {
  return (a, b, c, d, e, f, g, h, i) => {
    if (guest().beforeCall(name)) return 0;
    try {
      return impl(a, b, c, d, e, f, g, h, i);
    } catch (error) {
      if (!(error instanceof FreezeInterrupt)) throw error;
      guest().interruptCall(name);
      return 0;
    }
  };
}
