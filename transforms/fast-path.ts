// Asyncify's output runs one body in three states: normal, unwinding and rewinding. To rewind, it
// walks forward to the call it left from, so every stretch of code between two calls that may
// unwind sits behind `if (state == normal)`; in a loop with such a call (an error path, a
// preemption point) those guards run on every iteration, and they are most of what Asyncify
// costs in hot code.
//
// A function is only ever entered in the rewinding state from its caller's rewind (the host
// starts a rewind by calling the export again; no call returns into a frame while rewinding).
// So each instrumented function becomes two (splitting only those with guards inside loops saved
// 18% of SQLite's instrumented size but cost 7% of its run time):
//   - the original index: `if (state == rewinding) return_call $slow(params)`, then the body with
//     every guard against rewinding decided (state == rewinding: false; state == normal: true, as
//     after each call that may unwind the body leaves at once when unwinding), which the engine
//     folds away. Its unwind code is untouched, so it saves exactly what the slow copy restores.
//   - $slow, appended: Asyncify's body as it was, which a rewind enters and which then runs that
//     frame to its end. Calls it makes go to the fast bodies again.
// The patterns are the ones Asyncify (binaryen 108 to 132) emits for its state checks:
// `state == 2` / `state != 2`, `i32.eqz(state)`, and `select(..., state)`.
import { appendToModule } from './append.js';
import { ByteWriter, uleb } from './byte-writer.js';
import { Reader, scanModule, ScanUnsupported, type ScannedFunction, type ScannedModule } from './code-scan.js';
import { exportedFunction, readSections } from './wasm-binary.js';

export interface FastPathRewrite {
  bytes: Uint8Array;
  /** Functions split into a fast body and a slow copy. */
  split: number;
}

const GLOBAL_GET = 0x23, I32_CONST = 0x41, I32_EQZ = 0x45, I32_EQ = 0x46, I32_NE = 0x47, SELECT = 0x1b;
const IF = 0x04, EMPTY = 0x40, END = 0x0b, LOCAL_GET = 0x20, RETURN_CALL = 0x12;
const REWINDING = 2;

/** Splits every function of Asyncify's output that checks for rewinding; unchanged bytes if none does. */
export function splitFastPaths(wasm: Uint8Array): FastPathRewrite {
  const getState = exportedFunction(readSections(wasm), 'asyncify_get_state');
  if (getState === null) return { bytes: wasm, split: 0 };
  let m: ScannedModule;
  try {
    m = scanModule(wasm);
  } catch (e) {
    // Something the scan does not model: the module keeps Asyncify's bodies only, which is correct.
    if (e instanceof ScanUnsupported) return { bytes: wasm, split: 0 };
    throw e;
  }
  const state = stateGlobal(m, m.functions[getState]!);
  if (state === null) return { bytes: wasm, split: 0 };

  const fast = new Map<number, Uint8Array>();
  for (const fn of m.functions) {
    if (fn.import || !fn.globalsRead.has(state)) continue;
    const body = fastBody(m, fn, state, m.functions.length + fast.size);
    if (body) fast.set(fn.index, body);
  }
  if (fast.size === 0) return { bytes: wasm, split: 0 };

  const slow = [...fast.keys()].map((f) => m.functions[f]!);
  const bytes = appendToModule(m, {
    functions: slow.map((fn) => ({ type: fn.typeIndex, body: wasm.subarray(fn.bodyStart, fn.entryEnd) })),
    body: (fn) => fast.get(fn.index) ?? null,
  });
  return { bytes, split: slow.length };
}

/**
 * The fast body (locals and code, no size prefix), or null when the function has no rewind
 * check (Asyncify's own API functions read the state too).
 */
function fastBody(m: ScannedModule, fn: ScannedFunction, state: number, slowIndex: number): Uint8Array | null {
  const src = m.bytes;
  const edits: { start: number; end: number; code: number[] }[] = [];
  let checksRewind = false;
  for (const at of fn.globalGets) {
    const r = new Reader(src, at + 1);
    if (r.u32() !== state) continue;
    const next = r.pos;
    const op = src[next];
    if (op === I32_EQZ) edits.push({ start: at, end: next + 1, code: [I32_CONST, 1] });
    else if (op === SELECT) edits.push({ start: at, end: next, code: [I32_CONST, 0] });
    else if (op === I32_CONST && src[next + 1] === REWINDING && (src[next + 2] === I32_EQ || src[next + 2] === I32_NE)) {
      edits.push({ start: at, end: next + 3, code: [I32_CONST, src[next + 2] === I32_EQ ? 0 : 1] });
      checksRewind = true;
    }
  }
  if (!checksRewind) return null;

  const out = new ByteWriter();
  out.bytes(src.subarray(fn.bodyStart, fn.codeStart));
  // The rewind check: `if (state == rewinding) return_call $slow(params)`. It takes the place of
  // Asyncify's own prelude (`if (state == rewinding) { restore locals }`) where that comes first.
  out.bytes([GLOBAL_GET, ...uleb(state), I32_CONST, REWINDING, I32_EQ, IF, EMPTY]);
  for (let i = 0; i < fn.paramCount; i++) out.byte(LOCAL_GET).u32(i);
  out.byte(RETURN_CALL).u32(slowIndex).byte(END);
  let p = restorePreludeEnd(fn, edits[0]) ?? fn.codeStart;
  for (const e of edits) {
    if (e.start < p) continue;
    out.bytes(src.subarray(p, e.start)).bytes(e.code);
    p = e.end;
  }
  out.bytes(src.subarray(p, fn.entryEnd));
  return out.view().slice();
}

/** Where Asyncify's restore prelude ends, if the body starts with it (`first` is the body's first
 * state check: `state == rewinding` right at the start, then an `if` without result). */
function restorePreludeEnd(fn: ScannedFunction, first: { start: number; end: number } | undefined): number | null {
  if (!first || first.start !== fn.codeStart) return null;
  let depth = 0;
  for (const e of fn.structure) {
    if (depth === 0 && (e.kind !== 'open' || e.op !== IF || e.start !== first.end || !e.emptyType)) return null;
    if (e.kind === 'open') depth++;
    else if (e.kind === 'end' && --depth === 0) return e.start + 1;
  }
  return null;
}

/** The global asyncify_get_state returns (its whole body: `global.get $state`). */
function stateGlobal(m: ScannedModule, getState: ScannedFunction): number | null {
  if (getState.import || getState.globalGets.length !== 1) return null;
  const r = new Reader(m.bytes, getState.globalGets[0]! + 1);
  const index = r.u32();
  return m.bytes[r.pos] === END && r.pos + 1 === getState.entryEnd ? index : null;
}
