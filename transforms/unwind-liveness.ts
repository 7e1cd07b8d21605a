// Which locals an unwind from a fast body must really save. Asyncify's unwind code saves every
// local, at one place every call site branches to, so every local stays live across every call that
// may unwind: in a large function with many calls (SQLite's bytecode interpreter: 415 of them, 53
// locals) the engine then keeps all of them in stack slots around each call, and that is most of
// what a fast body still costs (sqlite3VdbeExec: 1.6× the plain run time, 1.07× when its unwind
// code read no locals).
//
// A local need not be saved at call site K when the rewind that follows cannot observe it:
//   - after K, in normal mode, it is written before it is read (liveness on the fast body, where an
//     unwind edge reads what that edge needs), and
//   - the rewind's walk to K, in the rewind copy, never reads it. That walk runs Asyncify's body in
//     the rewinding state, where the arms of guards that only run in the normal state are skipped;
//     every local read anywhere else in the body (the unwind code aside) counts as read by the walk.
// fast-path.ts sets the other locals to zero on the unwind edge, so the engine sees them dead.
import type { Construct, LocalAccess, ScannedFunction } from './code-scan.js';

const IF = 0x04, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, BR_TABLE = 0x0e;
const LOCAL_GET = 0x20;
const RETURN = 0x0f, RETURN_CALL = 0x12, RETURN_CALL_INDIRECT = 0x13, RETURN_CALL_REF = 0x15;

/** What fast-path.ts decided about a body's state tests: an if's condition (by the if's offset) or
 * a br_if's (by its offset), true or false in the normal state. */
export interface Decisions {
  ifs: Map<number, boolean>;
  brIfs: Map<number, boolean>;
}

type Event =
  | { at: number; kind: 'open' | 'else' | 'end'; c: Construct }
  | { at: number; kind: 'branch'; op: number; depths: number[] }
  | { at: number; kind: 'local'; op: number; index: number }
  | { at: number; kind: 'exit' };

/**
 * For each unwind edge (the offset of its `br_if`), the locals it must save, as a bitset over the
 * local index space; null when the body is not shaped as expected (every edge then saves all).
 */
export function unwindNeeds(
  src: Uint8Array, fn: ScannedFunction, constructs: Map<number, Construct>, locals: LocalAccess[], edges: Set<number>, decisions: Decisions,
): Map<number, Uint32Array> | null {
  const words = Math.ceil((fn.paramCount + fn.localCount) / 32) || 1;
  const events: Event[] = [];
  for (const c of constructs.values()) {
    events.push({ at: c.start, kind: 'open', c }, { at: c.endAt, kind: 'end', c });
    if (c.elseAt !== null) events.push({ at: c.elseAt, kind: 'else', c });
  }
  for (const e of fn.structure) if (e.kind === 'branch') events.push({ at: e.start, kind: 'branch', op: e.op, depths: e.depths });
  for (const a of locals) events.push({ at: a.at, kind: 'local', op: a.op, index: a.index });
  for (const h of fn.handovers) {
    const op = src[h.start];
    if (op === RETURN || op === RETURN_CALL || op === RETURN_CALL_INDIRECT || op === RETURN_CALL_REF) events.push({ at: h.start, kind: 'exit' });
  }
  events.push({ at: fn.entryEnd - 1, kind: 'exit' }); // the function's own end
  events.sort((a, b) => b.at - a.at);

  // The construct every unwind edge leaves to; after its end comes the unwind code.
  const unwind = unwindConstruct(fn, constructs, edges);
  if (unwind === null) return null;
  const walkReads = rewindWalkReads(locals, constructs, decisions, unwind.endAt, words);

  const loopLive = new Map<Construct, Uint32Array>();
  const needs = new Map<number, Uint32Array>();
  for (let pass = 0; ; pass++) {
    if (pass === 64) return null;
    let changed = false;
    const frames: { c: Construct; endLive: Uint32Array; label: Uint32Array; elseLive: Uint32Array | null }[] = [];
    let live = new Uint32Array(words);
    const target = (depth: number) => (depth < frames.length ? frames[frames.length - 1 - depth]!.label : new Uint32Array(words));
    for (const e of events) {
      switch (e.kind) {
        case 'exit':
          live = new Uint32Array(words);
          break;
        case 'end':
          frames.push({ c: e.c, endLive: live.slice(), label: e.c.op === LOOP ? (loopLive.get(e.c) ?? new Uint32Array(words)) : live.slice(), elseLive: null });
          break;
        case 'else': {
          const f = frames[frames.length - 1]!;
          f.elseLive = live;
          live = f.endLive.slice();
          break;
        }
        case 'open': {
          const f = frames.pop()!;
          if (e.c.op === IF) {
            const otherwise = f.elseLive ?? f.endLive;
            const decided = decisions.ifs.get(e.c.start);
            if (decided === false) live = otherwise.slice();
            else if (decided === undefined) or(live, otherwise);
          } else if (e.c.op === LOOP) {
            const before = loopLive.get(e.c);
            if (!before || !equal(before, live)) {
              loopLive.set(e.c, live.slice());
              changed = true;
            }
          }
          break;
        }
        case 'branch': {
          if (e.op === BR) live = target(e.depths[0]!).slice();
          else if (e.op === BR_IF) {
            if (edges.has(e.at)) {
              needs.set(e.at, or(live.slice(), walkReads));
              or(live, walkReads);
              break;
            }
            const decided = decisions.brIfs.get(e.at);
            if (decided === true) live = target(e.depths[0]!).slice();
            else if (decided === undefined) or(live, target(e.depths[0]!));
          } else if (e.op === BR_TABLE) {
            live = new Uint32Array(words);
            for (const d of e.depths) or(live, target(d));
          } else {
            or(live, target(e.depths[0]!)); // br_on_null / br_on_non_null
          }
          break;
        }
        case 'local':
          if (e.op === LOCAL_GET) live[e.index >>> 5]! |= 1 << (e.index & 31);
          else live[e.index >>> 5]! &= ~(1 << (e.index & 31));
          break;
      }
    }
    if (!changed) return needs;
  }
}

/** The block every unwind edge branches to (by label depth at the edge), or null if they disagree. */
function unwindConstruct(fn: ScannedFunction, constructs: Map<number, Construct>, edges: Set<number>): Construct | null {
  let found: Construct | null = null;
  const stack: Construct[] = [];
  for (const e of fn.structure) {
    if (e.kind === 'open') stack.push(constructs.get(e.start)!);
    else if (e.kind === 'end') stack.pop();
    else if (e.kind === 'branch' && edges.has(e.start)) {
      const depth = e.depths[0]!;
      const c = depth < stack.length ? stack[stack.length - 1 - depth]! : null;
      if (c === null || c.op === LOOP || (found !== null && found !== c)) return null;
      found = c;
    }
  }
  return found;
}

/** Locals the rewind's walk may read: every local.get outside arms that run only in the normal
 * state, and outside the unwind code after `tailStart`. */
function rewindWalkReads(locals: LocalAccess[], constructs: Map<number, Construct>, decisions: Decisions, tailStart: number, words: number): Uint32Array {
  const normalOnly: [number, number][] = [];
  for (const [at, value] of decisions.ifs) {
    const c = constructs.get(at);
    if (!c) continue;
    if (value) normalOnly.push([c.bodyStart, c.elseAt ?? c.endAt]);
    else if (c.elseAt !== null) normalOnly.push([c.elseAt, c.endAt]);
  }
  // Arms nest or are disjoint: one sweep over their bounds, in order, with the accesses (in order).
  const bounds = normalOnly.flatMap(([from, to]) => [{ at: from, step: 1 }, { at: to, step: -1 }]).sort((a, b) => a.at - b.at);
  const reads = new Uint32Array(words);
  let inside = 0;
  let next = 0;
  for (const a of locals) {
    // An arm's first instruction may be this access (`from` is its offset); `to` is its else or end.
    while (next < bounds.length && (bounds[next]!.at < a.at || (bounds[next]!.at === a.at && bounds[next]!.step > 0))) inside += bounds[next++]!.step;
    if (a.op !== LOCAL_GET || a.at > tailStart || inside > 0) continue;
    reads[a.index >>> 5]! |= 1 << (a.index & 31);
  }
  return reads;
}

function or(into: Uint32Array, from: Uint32Array): Uint32Array {
  for (let i = 0; i < into.length; i++) into[i]! |= from[i]!;
  return into;
}

function equal(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
