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
//     after each call that may unwind the body leaves at once when unwinding): an `if` on one
//     keeps only the arm that runs, a `br_if` becomes `br` or goes, any other use gets the
//     constant. Its unwind code saves what the slow copy restores; an unwind edge first sets the
//     locals that rewind cannot observe to zero (unwind-liveness.ts), so the engine need not keep
//     every local alive across every call that may unwind. (No block with parameters does that:
//     binaryen before version 117, Debian 12's wasm-opt among them, silently mis-reads those.)
//   - $slow, appended: Asyncify's body as it was, which a rewind enters and which then runs that
//     frame to its end. Calls it makes go to the fast bodies again.
// The patterns are the ones Asyncify (binaryen 108 to 132) emits for its state checks:
// `state == 2` / `state != 2`, `i32.eqz(state)`, and `select(..., state)`.
import { appendToModule } from './append.js';
import { ByteWriter, uleb } from './byte-writer.js';
import { constructs, localAccesses, Reader, scanModule, ScanUnsupported, type Construct, type ScannedFunction, type ScannedModule } from './code-scan.js';
import { nameCopies } from './names.js';
import { unwindNeeds, type Decisions } from './unwind-liveness.js';
import { exportedFunction, readSections } from './wasm-binary.js';

export interface FastPathRewrite {
  bytes: Uint8Array;
  /** Functions split into a fast body and a slow copy. */
  split: number;
  /** Unwind edges in fast bodies that zero the locals their rewind cannot observe. */
  zeroedEdges: number;
}

const GLOBAL_GET = 0x23, I32_CONST = 0x41, I32_EQZ = 0x45, I32_EQ = 0x46, I32_NE = 0x47, SELECT = 0x1b;
const BLOCK = 0x02, IF = 0x04, EMPTY = 0x40, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, DROP = 0x1a, LOCAL_SET = 0x21, LOCAL_TEE = 0x22, LOCAL_GET = 0x20, RETURN_CALL = 0x12;
const UNWINDING = 1, REWINDING = 2;
const I32 = 0x7f;
/** The zero of each value type (i32, i64, f32, f64, v128). */
const ZERO: Record<number, number[]> = {
  0x7f: [0x41, 0], 0x7e: [0x42, 0], 0x7d: [0x43, 0, 0, 0, 0], 0x7c: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  0x7b: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
};
/** Appended to a function's name for its rewind copy. */
export const REWIND_SUFFIX = '$rewind';

/** Splits every function of Asyncify's output that checks for rewinding; unchanged bytes if none does. */
export function splitFastPaths(wasm: Uint8Array): FastPathRewrite {
  const getState = exportedFunction(readSections(wasm), 'asyncify_get_state');
  if (getState === null) return { bytes: wasm, split: 0, zeroedEdges: 0 };
  let m: ScannedModule;
  try {
    m = scanModule(wasm);
  } catch (e) {
    // Something the scan does not model: the module keeps Asyncify's bodies only, which is correct.
    if (e instanceof ScanUnsupported) return { bytes: wasm, split: 0, zeroedEdges: 0 };
    throw e;
  }
  const state = stateGlobal(m, m.functions[getState]!);
  if (state === null) return { bytes: wasm, split: 0, zeroedEdges: 0 };

  const fast = new Map<number, Uint8Array>();
  let zeroedEdges = 0;
  for (const fn of m.functions) {
    if (fn.import || !fn.globalsRead.has(state)) continue;
    const split = fastBody(m, fn, state, m.functions.length + fast.size);
    if (!split) continue;
    fast.set(fn.index, split.body);
    zeroedEdges += split.zeroedEdges;
  }
  if (fast.size === 0) return { bytes: wasm, split: 0, zeroedEdges: 0 };

  const slow = [...fast.keys()].map((f) => m.functions[f]!);
  const bytes = appendToModule(m, {
    functions: slow.map((fn) => ({ type: fn.typeIndex, body: wasm.subarray(fn.bodyStart, fn.entryEnd) })),
    body: (fn) => fast.get(fn.index) ?? null,
  });
  const copies = new Map(slow.map((fn, k) => [m.functions.length + k, fn.index]));
  return { bytes: withCopyNames(bytes, copies), split: slow.length, zeroedEdges };
}

/** Names the copies `f$rewind` after their functions (profiles, trap stack traces); names are only
 * a convenience, so a name section the rewriter does not understand stays as it is. */
function withCopyNames(bytes: Uint8Array, copies: Map<number, number>): Uint8Array {
  try {
    return nameCopies(bytes, copies, REWIND_SUFFIX);
  } catch (e) {
    if (e instanceof ScanUnsupported) return bytes;
    throw e;
  }
}

/**
 * The fast body (locals and code, no size prefix), or null when the function has no rewind
 * check (Asyncify's own API functions read the state too).
 */
function fastBody(m: ScannedModule, fn: ScannedFunction, state: number, slowIndex: number): FastBody | null {
  const src = m.bytes;
  const blocks = constructs(fn);
  const edits: Edit[] = [];
  const decisions: Decisions = { ifs: new Map(), brIfs: new Map() };
  /** Unwind edges, `state == unwinding; br_if L; drop`: the br_if's offset → the edge's bytes. */
  const edges = new Map<number, UnwindEdge>();
  let checksRewind = false;
  for (const at of fn.globalGets) {
    const r = new Reader(src, at + 1);
    if (r.u32() !== state) continue;
    const next = r.pos;
    const op = src[next];
    if (op === I32_EQZ) edits.push(...decided(blocks, src, at, next + 1, true, decisions));
    else if (op === SELECT) edits.push({ start: at, end: next, code: [I32_CONST, 0] });
    else if (op === I32_CONST && src[next + 1] === REWINDING && (src[next + 2] === I32_EQ || src[next + 2] === I32_NE)) {
      edits.push(...decided(blocks, src, at, next + 3, src[next + 2] === I32_NE, decisions));
      checksRewind = true;
    } else if (op === I32_CONST && src[next + 1] === UNWINDING && src[next + 2] === I32_EQ && src[next + 3] === BR_IF) {
      const imm = new Reader(src, next + 4);
      imm.u32();
      if (src[imm.pos] === DROP) edges.set(next + 3, { start: at, end: imm.pos + 1 });
    }
  }
  if (!checksRewind) return null;
  // Zeroing edges keep the branch's value in a local of their own, after every other.
  const valueLocal = fn.paramCount + fn.localCount;
  const zeroed = zeroDeadLocals(src, fn, blocks, edges, decisions, valueLocal);
  edits.push(...zeroed);
  edits.sort((a, b) => a.start - b.start);

  const out = new ByteWriter();
  if (zeroed.length === 0) out.bytes(src.subarray(fn.bodyStart, fn.codeStart));
  else {
    const r = new Reader(src, fn.bodyStart);
    const groups = r.u32();
    out.u32(groups + 1).bytes(src.subarray(r.pos, fn.codeStart)).bytes([1, I32]);
  }
  // The rewind check: `if (state == rewinding) return_call $slow(params)`. It takes the place of
  // Asyncify's own prelude (`if (state == rewinding) { restore locals }`), which goes as a decided if.
  out.bytes([GLOBAL_GET, ...uleb(state), I32_CONST, REWINDING, I32_EQ, IF, EMPTY]);
  for (let i = 0; i < fn.paramCount; i++) out.byte(LOCAL_GET).u32(i);
  out.byte(RETURN_CALL).u32(slowIndex).byte(END);
  let p = fn.codeStart;
  for (const e of edits) {
    // An edit inside a dropped arm went with it.
    if (e.start < p) continue;
    out.bytes(src.subarray(p, e.start)).bytes(e.code);
    p = e.end;
  }
  out.bytes(src.subarray(p, fn.entryEnd));
  return { body: out.view().slice(), zeroedEdges: zeroed.length };
}

interface UnwindEdge {
  /** Where `global.get state` starts; the branch's value is on the stack there. */
  start: number;
  /** The end of the `drop` after the br_if. */
  end: number;
}

interface FastBody {
  body: Uint8Array;
  /** Unwind edges that now zero the locals the rewind cannot observe. */
  zeroedEdges: number;
}

/**
 * Edits that make each unwind edge set the locals its rewind cannot observe (unwind-liveness.ts)
 * to zero before it leaves for the unwind code: `state == unwinding; br_if L; drop` becomes
 * `local.set $value; state == unwinding; if  local.set x (zero)…  local.get $value; br L+1  end`.
 */
function zeroDeadLocals(
  src: Uint8Array, fn: ScannedFunction, blocks: Map<number, Construct>, edges: Map<number, UnwindEdge>, decisions: Decisions, valueLocal: number,
): Edit[] {
  if (edges.size === 0) return [];
  const needs = unwindNeeds(src, fn, blocks, localAccesses(src, fn), new Set(edges.keys()), decisions);
  if (needs === null) return [];
  const types = localTypes(src, fn);
  const edits: Edit[] = [];
  for (const [at, edge] of edges) {
    const need = needs.get(at);
    if (!need) continue;
    // Per value type: its zero once, then local.tee down the dead locals and local.set the last.
    const dead = new Map<number, number[]>();
    types.forEach((type, k) => {
      const index = fn.paramCount + k;
      // Reference-typed locals (no plain zero) are saved like needed ones.
      if (ZERO[type] === undefined || need[index >>> 5]! & (1 << (index & 31))) return;
      dead.set(type, [...(dead.get(type) ?? []), index]);
    });
    if (dead.size === 0) continue;
    const zero: number[] = [];
    for (const [type, indices] of dead) {
      zero.push(...ZERO[type]!);
      indices.forEach((index, i) => zero.push(i === indices.length - 1 ? LOCAL_SET : LOCAL_TEE, ...uleb(index)));
    }
    const depth = new Reader(src, at + 1).u32();
    const value = uleb(valueLocal);
    const unwinding = src.subarray(edge.start, at);
    edits.push({ start: edge.start, end: edge.end, code: [LOCAL_SET, ...value, ...unwinding, IF, EMPTY, ...zero, LOCAL_GET, ...value, BR, ...uleb(depth + 1), END] });
  }
  return edits;
}

/** The value type of each declared local (parameters not included), in index order. */
function localTypes(src: Uint8Array, fn: ScannedFunction): number[] {
  const r = new Reader(src, fn.bodyStart);
  const types: number[] = [];
  for (let groups = r.u32(); groups > 0; groups--) {
    const count = r.u32();
    const type = r.byte();
    for (let i = 0; i < count; i++) types.push(type);
  }
  return types;
}

/** Replace src[start, end) with code. */
interface Edit { start: number; end: number; code: number[] }

/**
 * Edits for a state test in src[start, end) whose outcome is known in a fast body. An `if` on it
 * keeps only the arm that runs, as a block (same label, so branches keep their depths); a `br_if`
 * becomes `br` or goes; anything else gets the constant.
 */
function decided(blocks: Map<number, Construct>, src: Uint8Array, start: number, end: number, value: boolean, decisions: Decisions): Edit[] {
  const b = src[end] === IF ? blocks.get(end) : undefined;
  if (b) {
    decisions.ifs.set(end, value);
    const block = [BLOCK, ...src.subarray(end + 1, b.bodyStart)];
    if (value) {
      const head = { start, end: b.bodyStart, code: block };
      return b.elseAt === null ? [head] : [head, { start: b.elseAt, end: b.endAt, code: [] }];
    }
    return [b.elseAt === null ? { start, end: b.endAt + 1, code: [] } : { start, end: b.elseAt + 1, code: block }];
  }
  if (src[end] === BR_IF) {
    decisions.brIfs.set(end, value);
    if (value) return [{ start, end: end + 1, code: [BR] }];
    const r = new Reader(src, end + 1);
    r.u32();
    return [{ start, end: r.pos, code: [] }];
  }
  return [{ start, end, code: [I32_CONST, value ? 1 : 0] }];
}

/** The global asyncify_get_state returns (its whole body: `global.get $state`). */
function stateGlobal(m: ScannedModule, getState: ScannedFunction): number | null {
  if (getState.import || getState.globalGets.length !== 1) return null;
  const r = new Reader(m.bytes, getState.globalGets[0]! + 1);
  const index = r.u32();
  return m.bytes[r.pos] === END && r.pos + 1 === getState.entryEnd ? index : null;
}
