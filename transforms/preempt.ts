// Preemption points: a fuel check at every loop header (and at the entry of functions on a call
// cycle, so recursion without loops is bounded too). The common case is a branch and a decrement
// of a local; when the fuel runs out the check calls an out-of-line stub, which calls the import
// `wmig.preempt` (a freeze point) and stores the fuel it returns in a global.
//
// The fuel lives in that global between functions and in a local inside a function with checks
// (a local is a register; a global is a load and a store per iteration, which nearly doubled the
// run time of tight loops). Such a function loads the global at entry and after every call, and
// stores it back before every call and wherever it leaves, so fuel spent anywhere counts
// everywhere and a loop that calls other functions still runs out.
//
// Everything is spliced into the binary here, so either Asyncify backend takes the result as is.
// The import goes after the existing ones (module-edit.ts moves every defined function's index);
// the rest is appended (a type, a global, the stub), so no index moves after that.
import { appendToModule } from './append.js';
import { ByteWriter, sleb, uleb } from './byte-writer.js';
import { loopCount, recursiveFunctions, scanModule, type ScannedFunction, type ScannedModule, type StructureEvent } from './code-scan.js';
import { addFunctionImport } from './module-edit.js';

export const PREEMPT_IMPORT = { module: 'wmig', base: 'preempt' } as const;
/** Loop iterations between two calls of the import; the host's return value re-arms it. */
export const INITIAL_FUEL = 10_000;

export interface PreemptRewrite {
  bytes: Uint8Array;
  /** Function index of the wmig.preempt import. */
  importIndex: number;
  /** Function index of the stub that calls it. */
  stubIndex: number;
  /** Global index of the fuel counter. */
  fuelGlobal: number;
  /** How many checks were inserted. */
  loopChecks: number;
  entryChecks: number;
}

/** What goes where in a function with checks; at one offset, in this order. */
const enum Splice { AfterLoopEnd, ReloadAfterCall, BeforeLoop, Check, StoreBeforeHandover, BranchDepths }

/** block $exit, loop $again, block $preempt: what a loop with a check is wrapped in. */
const WRAPPER_LABELS = 3;

/**
 * A function body (locals and code, without the size prefix) with a fuel local appended to its
 * locals, loaded at entry, checked at loop headers (and at entry), and handed over at calls and exits.
 *
 * The call to the stub, an unwind point, is kept out of the loop: Asyncify guards every stretch of
 * code that may be skipped while rewinding, and a call inside a loop put guards in every iteration
 * (that, not the check, made tight loops twice as slow). So a loop without block type becomes
 *
 *   block $exit  loop $again  block $preempt
 *     loop $L  (if fuel then fuel -= 1 else br $preempt)  BODY  end
 *     br $exit
 *   end  call $stub  fuel = global  br $again
 *   end  end
 *
 * and branches in the body that cross such wrappers are renumbered. The loop is entered again at
 * its header with its locals as they were, which is where the check stood. Loops with a block type
 * (rare in compiler output) keep the call inside.
 */
function withLocalFuel(out: ByteWriter, src: Uint8Array, fn: ScannedFunction, fuel: number[], stub: number[], entryCheck: boolean): void {
  const local = uleb(fn.paramCount + fn.localCount);
  const load = [0x23, ...fuel, 0x21, ...local];
  const store = [0x20, ...local, 0x24, ...fuel];
  const callStub = [0x10, ...stub, ...load];
  // Passing a check costs one unit of fuel; at zero it first gets more from the stub (which must
  // give at least one). In place: if (fuel) fuel -= 1 else { stub(); fuel = global - 1 }.
  const decrement = [0x20, ...local, 0x41, 0x01, 0x6b, 0x21, ...local];
  const check = (out: number[]) => [0x20, ...local, 0x04, 0x40, ...decrement, 0x05, ...out, 0x0b];
  const inPlaceCheck = check([...callStub, ...decrement]);
  // Wrapped: the `else` leaves for $preempt, and the loop header checks again once refilled.
  // Inside `if` (0), loop $L (1): $preempt is label 2. After $L's end: $preempt 0, $again 1, $exit 2.
  const wrappedCheck = check([0x0c, 0x02]);
  const afterWrappedLoop = [0x0c, 0x02, 0x0b, ...callStub, 0x0c, 0x00, 0x0b, 0x0b];

  type Edit = { at: number; order: Splice; event?: StructureEvent; code?: number[] };
  const edits: Edit[] = [];
  for (const e of fn.structure) {
    if (e.kind === 'open' && e.op === 0x03) {
      if (e.emptyType) edits.push({ at: e.start, order: Splice.BeforeLoop, code: [0x02, 0x40, 0x03, 0x40, 0x02, 0x40] });
      edits.push({ at: e.bodyStart, order: Splice.Check, code: e.emptyType ? wrappedCheck : inPlaceCheck });
    }
    // Opens and ends keep the label stack; branches get renumbered.
    if (e.kind === 'open' || e.kind === 'end') edits.push({ at: e.kind === 'end' ? e.start + 1 : e.start, order: e.kind === 'end' ? Splice.AfterLoopEnd : Splice.BeforeLoop, event: e });
    if (e.kind === 'branch') edits.push({ at: e.immStart, order: Splice.BranchDepths, event: e });
  }
  for (const h of fn.handovers) {
    edits.push({ at: h.start, order: Splice.StoreBeforeHandover, code: store });
    if (h.kind === 'call') edits.push({ at: h.end, order: Splice.ReloadAfterCall, code: load });
  }
  edits.sort((a, b) => a.at - b.at || a.order - b.order);

  let p = fn.bodyStart;
  // Locals: one more group, `1 i32`, whose index is after every param and local.
  let groups = 0, shift = 0, b: number;
  do { b = src[p++]!; groups += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  out.u32(groups + 1).bytes(src.subarray(p, fn.codeStart)).bytes([0x01, 0x7f]).bytes(load);
  if (entryCheck) out.bytes(inPlaceCheck);
  p = fn.codeStart;
  /** Open labels, innermost last: true for a loop that got wrappers. */
  const wrapped: boolean[] = [];
  for (const edit of edits) {
    if (edit.at > p) {
      out.bytes(src.subarray(p, edit.at));
      p = edit.at;
    }
    if (edit.code) out.bytes(edit.code);
    const e = edit.event;
    if (!e) continue;
    if (e.kind === 'open') wrapped.push(e.op === 0x03 && e.emptyType);
    else if (e.kind === 'end' && wrapped.pop()) out.bytes(afterWrappedLoop);
    else if (e.kind === 'branch') {
      const depths = e.depths.map((d) => {
        // Wrappers sit outside their loop: a branch crosses those of the loops it leaves, not its target's.
        let extra = 0;
        for (let k = 0; k < d && k < wrapped.length; k++) if (wrapped[wrapped.length - 1 - k]) extra += WRAPPER_LABELS;
        return d + extra;
      });
      if (e.op === 0x0e) out.u32(depths.length - 1);
      for (const d of depths) out.u32(d);
      p = e.end;
    }
  }
  out.bytes(src.subarray(p, fn.entryEnd));
}

export function insertPreemptChecks(original: ScannedModule): PreemptRewrite {
  const imported = addFunctionImport(original, PREEMPT_IMPORT.module, PREEMPT_IMPORT.base, [], [0x7f]);
  const m = scanModule(imported.bytes);
  const src = m.bytes;
  const stubType = m.numTypes;
  const fuelGlobal = m.numGlobals;
  const stubIndex = m.functions.length;
  const recursive = recursiveFunctions(m);
  const fuel = uleb(fuelGlobal);
  const stub = uleb(stubIndex);
  // The stub: no locals; fuel = wmig.preempt()
  const stubBody = [0x00, 0x10, ...uleb(imported.index), 0x24, ...fuel, 0x0b];

  const globalEntry = [0x7f, 0x01, 0x41, ...sleb(INITIAL_FUEL), 0x0b];
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
      withLocalFuel(body, src, fn, fuel, stub, entryCheck);
      return body.view();
    },
  });
  return { bytes, importIndex: imported.index, stubIndex, fuelGlobal, loopChecks, entryChecks };
}
