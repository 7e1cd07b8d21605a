// Preemption points: a check of a flag global at every loop header (and at the entry of functions
// on a call cycle, so recursion without loops is bounded too). The common case is a global load
// and a branch; when the flag is set the check calls an out-of-line stub, which calls the import
// `wmig.preempt` (a freeze point) and stores what it returns (0) in the flag.
//
// Nothing in the guest counts: the host sets the flag (an exported mutable global, like every
// mutable global of an instrumented module) from the guest's own thread when a freeze is wanted,
// by interrupting it (V8 runs interrupts at loop headers and function entries; see
// runtime/process/preempt-interrupt.ts). So there is no counter to keep in a register or hand
// over at calls, and code between checks runs as it would without them.
//
// Everything is spliced into the binary here, so either Asyncify backend takes the result as is.
// The import goes after the existing ones (module-edit.ts moves every defined function's index);
// the rest is appended (a type, a global, the stub), so no index moves after that.
import { appendToModule } from './append.js';
import { ByteWriter, uleb } from './byte-writer.js';
import { constructs, loopCount, recursiveFunctions, scanModule, type ScannedFunction, type ScannedModule, type StructureEvent } from './code-scan.js';
import { addFunctionImport } from './module-edit.js';

export const PREEMPT_IMPORT = { module: 'wmig', base: 'preempt' } as const;

export interface PreemptRewrite {
  bytes: Uint8Array;
  /** Function index of the wmig.preempt import. */
  importIndex: number;
  /** Function index of the stub that calls it. */
  stubIndex: number;
  /** Global index of the flag the checks read. */
  flagGlobal: number;
  /** How many checks were inserted. */
  loopChecks: number;
  entryChecks: number;
}

/** What goes where in a function with checks; at one offset, in this order. */
const enum Splice { AfterLoopEnd, BeforeLoop, Check, BranchDepths }

/** block $exit, loop $again, block $preempt: what a loop with a check is wrapped in. */
const WRAPPER_LABELS = 3;

/** Body size (bytes, before instrumentation) from which a loop that makes calls keeps its check's
 * call in place. Measured on SQLite: 2 000, 5 000 and 15 000 did equally well; the largest keeps the
 * most functions (those V8 compiles with its full register allocator) as they were. */
export const IN_PLACE_BODY_BYTES = 15_000;

/**
 * A function body (locals and code, without the size prefix) with the flag checked at loop headers
 * (and at entry).
 *
 * The call to the stub (an unwind point, with the code that saves the frame after it) is kept out
 * of the loop: every value live across a call must leave its register (V8's wasm calls preserve
 * none), so a call in a tight loop cost on every iteration even though it never runs (hash 1.45×,
 * fannkuch 1.43× with the call in place). So a loop without block type becomes
 *
 *   block $exit  loop $again  block $preempt
 *     loop $L  (br_if $preempt flag)  BODY  end
 *     br $exit
 *   end  call $stub  br $again
 *   end  end
 *
 * and branches in the body that cross such wrappers are renumbered. The loop is entered again at
 * its header with its locals as they were, which is where the check stood.
 *
 * Loops with a block type (rare in compiler output) keep the call in place, `if flag, call $stub`;
 * so do loops that make calls of their own in huge functions (IN_PLACE_BODY_BYTES). V8 allocates
 * the registers of a huge function with its mid-tier allocator, and there the wrappers cost more
 * than the call: SQLite's interpreter loop and its kin made SQLite 2.8× plain with every loop
 * wrapped, 2.3× so. A loop that makes calls spills around them anyway.
 */
function withFlagChecks(out: ByteWriter, src: Uint8Array, fn: ScannedFunction, flag: number[], stub: number[], entryCheck: boolean): void {
  const callStub = [0x10, ...stub];
  // In place: if (flag) stub().
  const inPlaceCheck = [0x23, ...flag, 0x04, 0x40, ...callStub, 0x0b];
  // Wrapped: inside loop $L (0), $preempt is label 1. After $L's end: $preempt 0, $again 1, $exit 2.
  const wrappedCheck = [0x23, ...flag, 0x0d, 0x01];
  const afterWrappedLoop = [0x0c, 0x02, 0x0b, ...callStub, 0x0c, 0x00, 0x0b, 0x0b];
  const inPlace = fn.entryEnd - fn.bodyStart >= IN_PLACE_BODY_BYTES ? loopsMakingCalls(fn) : new Set<number>();
  const wrapped = new Set(fn.structure.filter((e) => e.kind === 'open' && e.op === 0x03 && e.emptyType && !inPlace.has(e.start)).map((e) => e.start));

  type Edit = { at: number; order: Splice; event?: StructureEvent; code?: number[] };
  const edits: Edit[] = [];
  for (const e of fn.structure) {
    if (e.kind === 'open' && e.op === 0x03) {
      if (wrapped.has(e.start)) edits.push({ at: e.start, order: Splice.BeforeLoop, code: [0x02, 0x40, 0x03, 0x40, 0x02, 0x40] });
      edits.push({ at: e.bodyStart, order: Splice.Check, code: wrapped.has(e.start) ? wrappedCheck : inPlaceCheck });
    }
    // Opens and ends keep the label stack; branches get renumbered.
    if (e.kind === 'open' || e.kind === 'end') edits.push({ at: e.kind === 'end' ? e.start + 1 : e.start, order: e.kind === 'end' ? Splice.AfterLoopEnd : Splice.BeforeLoop, event: e });
    if (e.kind === 'branch') edits.push({ at: e.immStart, order: Splice.BranchDepths, event: e });
  }
  edits.sort((a, b) => a.at - b.at || a.order - b.order);

  out.bytes(src.subarray(fn.bodyStart, fn.codeStart));
  if (entryCheck) out.bytes(inPlaceCheck);
  let p = fn.codeStart;
  /** Open labels, innermost last: true for a loop that got wrappers. */
  const open: boolean[] = [];
  for (const edit of edits) {
    if (edit.at > p) {
      out.bytes(src.subarray(p, edit.at));
      p = edit.at;
    }
    if (edit.code) out.bytes(edit.code);
    const e = edit.event;
    if (!e) continue;
    if (e.kind === 'open') open.push(wrapped.has(e.start));
    else if (e.kind === 'end' && open.pop()) out.bytes(afterWrappedLoop);
    else if (e.kind === 'branch') {
      const depths = e.depths.map((d) => {
        // Wrappers sit outside their loop: a branch crosses those of the loops it leaves, not its target's.
        let extra = 0;
        for (let k = 0; k < d && k < open.length; k++) if (open[open.length - 1 - k]) extra += WRAPPER_LABELS;
        return d + extra;
      });
      if (e.op === 0x0e) out.u32(depths.length - 1);
      for (const d of depths) out.u32(d);
      p = e.end;
    }
  }
  out.bytes(src.subarray(p, fn.entryEnd));
}

/** The loops (by the offset of their opening) with a call somewhere in their body. */
function loopsMakingCalls(fn: ScannedFunction): Set<number> {
  const calls = fn.handovers.filter((h) => h.kind === 'call').map((h) => h.start); // in body order
  const loops = [...constructs(fn).values()].filter((c) => c.op === 0x03);
  return new Set(loops.filter((c) => {
    const next = firstAfter(calls, c.start);
    return next < calls.length && calls[next]! < c.endAt;
  }).map((c) => c.start));
}

/** The index of the first element of ascending `xs` greater than `x` (xs.length if none). */
function firstAfter(xs: number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function insertPreemptChecks(original: ScannedModule): PreemptRewrite {
  const imported = addFunctionImport(original, PREEMPT_IMPORT.module, PREEMPT_IMPORT.base, [], [0x7f]);
  const m = scanModule(imported.bytes);
  const src = m.bytes;
  const stubType = m.numTypes;
  const flagGlobal = m.numGlobals;
  const stubIndex = m.functions.length;
  const recursive = recursiveFunctions(m);
  const flag = uleb(flagGlobal);
  const stub = uleb(stubIndex);
  // The stub: no locals; flag = wmig.preempt()
  const stubBody = [0x00, 0x10, ...uleb(imported.index), 0x24, ...flag, 0x0b];

  const globalEntry = [0x7f, 0x01, 0x41, 0x00, 0x0b];
  let loopChecks = 0, entryChecks = 0;
  const bytes = appendToModule(m, {
    types: [[0x60, 0x00, 0x00]],
    globals: [globalEntry],
    functions: [{ type: stubType, body: stubBody }],
    body: (fn) => {
      const entryCheck = recursive.has(fn.index);
      const loops = loopCount(fn);
      if (loops === 0 && !entryCheck) return null;
      if (entryCheck) entryChecks++;
      loopChecks += loops;
      const body = new ByteWriter();
      withFlagChecks(body, src, fn, flag, stub, entryCheck);
      return body.view();
    },
  });
  return { bytes, importIndex: imported.index, stubIndex, flagGlobal, loopChecks, entryChecks };
}
