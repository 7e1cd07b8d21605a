/**
 * transforms/preempt.ts checks a flag global at every loop header and at the entry of recursive
 * functions; when it is set, the check calls wmig.preempt (which returns the flag's next value, 0)
 * and the loop goes on where it was. Oracle: the program calls an `arm(id)` import at the end of
 * every loop body (and a recursive function before it recurses) which sets the flag, as the host
 * does from an interrupt; the next check must call wmig.preempt, never one without the flag set,
 * and every loop must honour it; the output must be the plain run's. A check that is missing, or
 * a loop re-entered wrongly after the call, fails one of these.
 *
 * A loop gets its check's call outside it (wrappers, with branches renumbered across them) unless
 * it makes calls in a huge function (G). arm() is a call, so loops without calls (F) are armed just
 * before they are entered, and the program marks in a global of its own (`$where`) where it is:
 * such an arm counts as honoured only when wmig.preempt comes while `$where` names it, i.e. from
 * the call-free loop's own check.
 */
import { describe, expect, it } from 'vitest';
import { instrument, PREEMPT_IMPORT } from '../transforms/index.js';
import { IN_PLACE_BODY_BYTES } from '../transforms/preempt.js';
import { wat } from './helpers/wat.js';

/** Instructions of 7 bytes each that make $huge's body IN_PLACE_BODY_BYTES long; an even count leaves $acc as it was. */
const HUGE_FILLER = 2 * Math.ceil(IN_PLACE_BODY_BYTES / 14);

/** The inner loop of E and F2 (with `arm` at the end of its body): adds $i * $j to $sum and leaves
 * by a br_table, to $next when $j reaches 7 and to $done once $sum is large. */
const innerLoop = (arm: string) => `
        (local.set $j (i32.const 0))
        (block $next
          (loop $inner
            (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $i) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            ${arm}
            (br_table $inner $next $done (i32.add (i32.ge_u (local.get $j) (i32.const 7))
                                                  (i32.ge_u (local.get $sum) (i32.const 100000000))))))`;

// A: a loop calling a function without loops; B: a loop calling a function with a loop;
// C: recursion without loops (entry checks); D: a loop left by `return` from inside it; E below.
const PROGRAM = `
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "env" "arm" (func $arm (param i32)))
  (memory (export "memory") 1)
  (global $acc (mut i32) (i32.const 0))
  (global $where (mut i32) (i32.const 0))
  (func $leaf (param $x i32) (result i32) (i32.add (local.get $x) (i32.const 3)))
  (func $inner (param $n i32) (local $i i32)
    (loop $l
      (global.set $acc (i32.add (global.get $acc) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $arm (i32.const 2))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func $rec (param $d i32) (result i32)
    (if (result i32) (local.get $d)
      (then (call $arm (i32.const 3)) (i32.add (call $rec (i32.sub (local.get $d) (i32.const 1))) (i32.const 1)))
      (else (i32.const 0))))
  (func $find (param $limit i32) (result i32) (local $i i32)
    (loop $l
      (if (i32.eq (local.get $i) (local.get $limit)) (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $arm (i32.const 4))
      (br $l))
    (unreachable))
  ;; E: nested loops in one function, left by br_if and br_table across the wrappers of both,
  ;; and a loop with a block type (its check keeps the call in place).
  (func $nested (param $n i32) (result i32) (local $i i32) (local $j i32) (local $sum i32)
    (block $done
      (loop $outer
${innerLoop('(call $arm (i32.const 6))')}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $arm (i32.const 5))
        (br $outer)))
    (i32.add (local.get $sum)
      (loop $typed (result i32)
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (call $arm (i32.const 7))
        (br_if $typed (i32.gt_s (local.get $i) (i32.const 0)))
        (local.get $i))))
  ;; F: loops without calls. F1: one left by its br_if; F2: a nest of two, the inner one left by a
  ;; br_table across the wrappers of both; F3: a loop that arms around a call-free inner loop left
  ;; by a br_table across its wrappers to either of two blocks.
  (func $free1 (param $n i32) (result i32) (local $i i32) (local $s i32)
    (global.set $where (i32.const 8))
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (global.set $where (i32.const 0))
    (local.get $s))
  (func $free2 (param $n i32) (result i32) (local $i i32) (local $j i32) (local $sum i32)
    (global.set $where (i32.const 9))
    (block $done
      (loop $outer
${innerLoop('')}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $outer (i32.lt_u (local.get $i) (local.get $n)))))
    (global.set $where (i32.const 0))
    (local.get $sum))
  (func $free3 (param $n i32) (result i32) (local $i i32) (local $j i32) (local $sum i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (call $arm (i32.const 10))
      (global.set $where (i32.const 10))
      (block $skip
        (block $next
          (loop $inner
            (local.set $sum (i32.add (local.get $sum) (i32.add (local.get $i) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_table $inner $next $skip (i32.add (i32.ge_u (local.get $j) (i32.const 5))
                                                  (i32.ge_u (local.get $sum) (i32.const 2000))))))
        (local.set $sum (i32.add (local.get $sum) (i32.const 1))))
      (global.set $where (i32.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum))
  ;; G: a loop that makes calls in a huge function: its check's call stays in place.
  (func $huge (param $n i32) (local $i i32)
    ${'(global.set $acc (i32.xor (global.get $acc) (i32.const 5)))\n'.repeat(HUGE_FILLER)}
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $arm (i32.const 11))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "_start") (local $i i32)
    (loop $a
      (global.set $acc (call $leaf (global.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $arm (i32.const 0))
      (br_if $a (i32.lt_u (local.get $i) (i32.const 10000))))
    (local.set $i (i32.const 0))
    (loop $b
      (call $inner (i32.const 10))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $arm (i32.const 1))
      (br_if $b (i32.lt_u (local.get $i) (i32.const 1000))))
    (global.set $acc (i32.add (global.get $acc) (call $rec (i32.const 5000))))
    (global.set $acc (i32.add (global.get $acc) (call $find (i32.const 3000))))
    (global.set $acc (i32.add (global.get $acc) (call $nested (i32.const 500))))
    (call $arm (i32.const 8))
    (global.set $acc (i32.add (global.get $acc) (call $free1 (i32.const 1000))))
    (call $arm (i32.const 9))
    (global.set $acc (i32.add (global.get $acc) (call $free2 (i32.const 300))))
    (global.set $acc (i32.add (global.get $acc) (call $free3 (i32.const 200))))
    (call $huge (i32.const 50))
    (drop (call $fd_write (global.get $acc) (i32.const 0) (i32.const 0) (i32.const 0)))
    (call $proc_exit (i32.const 0)))
)`;

/** The arm() ids: loops A, B, B's callee, C (recursion), D, E outer, E inner, E typed, F1, F2, F3, G. */
const LOOPS = 12;
/** The ids whose arm counts only when `$where` names them (the call-free loops, F). */
const CALL_FREE = new Set([8, 9, 10]);

class Exit extends Error {}

/** Runs the module; arm() sets the flag (when the module has one) and records which loop armed it. */
function run(bytes: Uint8Array, flagExport?: string, whereExport?: string) {
  const writes: number[] = [];
  const honoured = new Set<number>();
  let armedBy = -1;
  let preempts = 0;
  let spurious = 0;
  let flag: WebAssembly.Global | undefined;
  let where: WebAssembly.Global | undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    wasi_snapshot_preview1: {
      fd_write: (x: number) => (writes.push(x), 0),
      proc_exit: () => {
        throw new Exit();
      },
    },
    env: {
      arm: (id: number) => {
        if (!flag) return;
        flag.value = 1;
        armedBy = id;
      },
    },
    [PREEMPT_IMPORT.module]: {
      [PREEMPT_IMPORT.base]: () => {
        preempts++;
        if (armedBy < 0) spurious++;
        if (!CALL_FREE.has(armedBy) || where?.value === armedBy) honoured.add(armedBy);
        armedBy = -1;
        return 0;
      },
    },
  });
  if (flagExport !== undefined) flag = instance.exports[flagExport] as WebAssembly.Global;
  if (whereExport !== undefined) where = instance.exports[whereExport] as WebAssembly.Global;
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
  }
  return { writes, honoured, preempts, spurious };
}

describe('preemption checks', () => {
  it('every loop and recursive function calls wmig.preempt at its next check once the flag is set, and only then', async () => {
    const plain = wat(PROGRAM);
    const result = await instrument(plain, { preempt: true });
    expect(result.stats?.loopChecks).toBe(13);
    expect(result.stats?.entryChecks).toBe(1);
    const flagExport = result.info.preemptFlag;
    expect(flagExport).toBeDefined();
    const expected = run(plain).writes;
    expect(expected.length).toBe(1);

    const unarmed = run(result.wasm);
    expect(unarmed.writes).toEqual(expected);
    expect(unarmed.preempts, 'no call while the flag is clear').toBe(0);

    // $where is the program's second global (index 1); every mutable global is exported.
    const whereExport = result.info.globals.find((g) => g.index === 1)?.export;
    expect(whereExport).toBeDefined();
    const armed = run(result.wasm, flagExport, whereExport);
    expect(armed.writes).toEqual(expected);
    expect(armed.spurious).toBe(0);
    expect([...armed.honoured].sort((a, b) => a - b)).toEqual(Array.from({ length: LOOPS }, (_, i) => i));
  });
});
