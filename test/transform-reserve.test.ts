/**
 * transforms/reserve.ts: the instrumented module has RESERVED_PAGES more memory than the guest
 * sees. Oracle: the same module uninstrumented — every memory.size and memory.grow result must
 * be the same, up to and past the declared maximum, while the real memory is larger by exactly
 * the reserved pages, which stay zero.
 */
import { describe, expect, it } from 'vitest';
import { instrument } from '../transforms/index.js';
import { wat } from './helpers/wat.js';

const PAGE = 65536;


/** A WASI-like command (one fd_write, so Asyncify has work) exposing memory.size and memory.grow. */
const memoryModule = (limits: string, memoryDecl = `(memory (export "memory") ${limits})`) => wat(`
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ${memoryDecl}
  (func (export "_start") (drop (call $fd_write (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param $n i32) (result i32) (memory.grow (local.get $n)))
  (func (export "grow_twice") (param $n i32) (result i32)
    (i32.add (memory.grow (local.get $n)) (i32.mul (memory.size) (i32.const 1000))))
)`);

interface MemoryApi {
  memory: WebAssembly.Memory;
  size(): number;
  grow(n: number): number;
  grow_twice(n: number): number;
}

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}): MemoryApi {
  const wasi = { fd_write: () => 0 };
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { wasi_snapshot_preview1: wasi, ...imports }).exports as unknown as MemoryApi;
}

/** The same sequence of size/grow calls on both; returns what the guest saw. */
function exercise(api: MemoryApi, grows: number[]): number[] {
  const seen = [api.size()];
  for (const n of grows) seen.push(api.grow(n), api.size());
  seen.push(api.grow_twice(1), api.size());
  return seen;
}

describe('reserved pages for Asyncify', () => {
  for (const [limits, grows] of [
    ['2 10', [3, 0, 5, 1, 100]],
    ['1', [0, 7, 300]],
    ['0 3', [1, 2, 1]],
  ] as const) {
    it(`memory ${limits}: the guest sees what the uninstrumented module sees, the real memory has 16 pages more`, async () => {
      const plain = memoryModule(limits);
      const result = await instrument(plain);
      expect(result.info.reservedPages).toBe(16);
      expect(result.stats?.unreserved).toBeNull();
      const before = instantiate(plain);
      const after = instantiate(result.wasm);
      const expected = exercise(before, [...grows]);
      expect(exercise(after, [...grows])).toEqual(expected);
      const guestPages = before.memory.buffer.byteLength / PAGE;
      expect(after.memory.buffer.byteLength / PAGE).toBe(guestPages + 16);
      // The guest's pages include the formerly reserved ones; the top 16 are reserved now.
      expect(new Uint8Array(after.memory.buffer).every((b) => b === 0)).toBe(true);
    });
  }

  it('an imported memory is left alone: no pages reserved, and the reason is reported', async () => {
    const plain = memoryModule('', '(import "env" "memory" (memory 1))');
    const result = await instrument(plain);
    expect(result.info.reservedPages).toBeUndefined();
    expect(result.stats?.unreserved).toMatch(/1 imported and 0 defined memories/);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const api = instantiate(result.wasm, { env: { memory } });
    expect([api.size(), api.grow(2), api.size()]).toEqual([1, 1, 3]);
  });
});
