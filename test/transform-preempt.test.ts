/**
 * transforms/preempt.ts keeps the fuel in a local inside functions with checks and hands it over
 * through the global at calls and exits. Oracle: a model of the fuel — every check spends one
 * unit, and at zero first calls wmig.preempt, which re-arms it — run over the number of checks the
 * program passes. A lost hand-over (fuel a callee spent, or fuel spent before a call) changes how
 * often wmig.preempt is called; a loop whose fuel never ran out would not call it at all.
 */
import { describe, expect, it } from 'vitest';
import { INITIAL_FUEL, instrument, PREEMPT_IMPORT } from '../transforms/index.js';
import { wat } from './helpers/wat.js';

const REARM = 97;

// A: a loop calling a function without loops; B: a loop calling a function with a loop;
// C: recursion without loops (entry checks); D: a loop left by `return` from inside it; E below.
const PROGRAM = `
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $acc (mut i32) (i32.const 0))
  (func $leaf (param $x i32) (result i32) (i32.add (local.get $x) (i32.const 3)))
  (func $inner (param $n i32) (local $i i32)
    (loop $l
      (global.set $acc (i32.add (global.get $acc) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func $rec (param $d i32) (result i32)
    (if (result i32) (local.get $d)
      (then (i32.add (call $rec (i32.sub (local.get $d) (i32.const 1))) (i32.const 1)))
      (else (i32.const 0))))
  (func $find (param $limit i32) (result i32) (local $i i32)
    (loop $l
      (if (i32.eq (local.get $i) (local.get $limit)) (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (unreachable))
  ;; E: nested loops in one function, left by br_if and br_table across the wrappers of both,
  ;; and a loop with a block type (its check keeps the call in place).
  (func $nested (param $n i32) (result i32) (local $i i32) (local $j i32) (local $sum i32)
    (block $done
      (loop $outer
        (local.set $j (i32.const 0))
        (block $next
          (loop $inner
            (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $i) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_table $inner $next $done (i32.add (i32.ge_u (local.get $j) (i32.const 7))
                                                  (i32.ge_u (local.get $sum) (i32.const 100000000))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (br $outer)))
    (i32.add (local.get $sum)
      (loop $typed (result i32)
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br_if $typed (i32.gt_s (local.get $i) (i32.const 0)))
        (local.get $i))))
  (func (export "_start") (local $i i32)
    (loop $a
      (global.set $acc (call $leaf (global.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $a (i32.lt_u (local.get $i) (i32.const 10000))))
    (local.set $i (i32.const 0))
    (loop $b
      (call $inner (i32.const 10))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $b (i32.lt_u (local.get $i) (i32.const 1000))))
    (global.set $acc (i32.add (global.get $acc) (call $rec (i32.const 5000))))
    (global.set $acc (i32.add (global.get $acc) (call $find (i32.const 3000))))
    (global.set $acc (i32.add (global.get $acc) (call $nested (i32.const 500))))
    (drop (call $fd_write (global.get $acc) (i32.const 0) (i32.const 0) (i32.const 0)))
    (call $proc_exit (i32.const 0)))
)`;

/** Checks the program passes: A 10000, B 1000 + 1000 * 10, C 5001 entries, D 3001,
 * E 500 outer + 500 * 7 inner + 500 typed; _start's own none. */
const CHECKS = 10_000 + 1_000 + 10_000 + 5_001 + 3_001 + 500 + 3_500 + 500;


class Exit extends Error {}

function run(bytes: Uint8Array): { writes: number[]; preempts: number } {
  const writes: number[] = [];
  let preempts = 0;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    wasi_snapshot_preview1: {
      fd_write: (x: number) => (writes.push(x), 0),
      proc_exit: () => { throw new Exit(); },
    },
    [PREEMPT_IMPORT.module]: { [PREEMPT_IMPORT.base]: () => (preempts++, REARM) },
  });
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
  }
  return { writes, preempts };
}

/** The fuel model: how many times a run of `checks` checks calls wmig.preempt. */
function modelPreempts(checks: number): number {
  let fuel = INITIAL_FUEL;
  let calls = 0;
  for (let i = 0; i < checks; i++) {
    if (fuel === 0) { calls++; fuel = REARM; }
    fuel--;
  }
  return calls;
}

describe('preemption fuel', () => {
  it('every check counts, across calls, returns and recursion: wmig.preempt is called as the model says', async () => {
    const plain = wat(PROGRAM);
    const result = await instrument(plain, { preempt: true });
    expect(result.stats?.loopChecks).toBe(7);
    expect(result.stats?.entryChecks).toBe(1);
    const got = run(result.wasm);
    expect(got.writes).toEqual(run(plain).writes);
    expect(got.preempts).toBe(modelPreempts(CHECKS));
  });
});
