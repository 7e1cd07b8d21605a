/**
 * transforms/append.ts, which reserve, preempt and fast paths build on: appended types, globals and
 * functions take the next indices, bodies can be replaced, and sections the module lacks are
 * inserted in binary order (the engine is the oracle: it must accept the module and run it).
 */
import { describe, expect, it } from 'vitest';
import { appendToModule } from '../transforms/append.js';
import { scanModule } from '../transforms/code-scan.js';
import { wat } from './helpers/wat.js';

const GET_GLOBAL_TYPE = [0x60, 0x00, 0x01, 0x7f]; // () -> i32
const global = (value: number) => [0x7f, 0x00, 0x41, value, 0x0b]; // immutable i32, small value

describe('appendToModule', () => {
  it('inserts the type, function, global and code sections a module without them needs', () => {
    const m = scanModule(wat('(module (memory 1) (export "memory" (memory 0)))'));
    const bytes = appendToModule(m, {
      types: [GET_GLOBAL_TYPE],
      globals: [global(42)],
      functions: [{ type: 0, body: [0x00, 0x23, 0x00, 0x0b] }], // global.get 0
    });
    expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    const out = scanModule(bytes);
    expect(out.functions).toHaveLength(1);
    expect(out.numGlobals).toBe(1);
    // The engine validated the body against type 0 and global 0, which exist only because they were inserted.
    expect(out.functions[0]!.globalsRead.has(0)).toBe(true);
  });

  it('appends after existing entries, keeps other bodies byte for byte and replaces the chosen one', () => {
    const src = wat(`(module
      (global $g (mut i32) (i32.const 7))
      (func $keep (export "keep") (result i32) (global.get $g))
      (func $swap (export "swap") (result i32) (i32.const 1)))`);
    const m = scanModule(src);
    const bytes = appendToModule(m, {
      types: [GET_GLOBAL_TYPE],
      globals: [global(5)],
      functions: [{ type: m.numTypes, body: [0x00, 0x23, m.numGlobals, 0x0b] }],
      // $swap now calls the appended function, which reads the appended global.
      body: (fn) => (fn.index === 1 ? [0x00, 0x10, m.functions.length, 0x0b] : null),
    });
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)) as unknown as { exports: { keep(): number; swap(): number } };
    expect(exports.keep()).toBe(7);
    expect(exports.swap()).toBe(5);
    const out = scanModule(bytes);
    const body = (s: typeof m, i: number) => Buffer.from(s.bytes.subarray(s.functions[i]!.entryStart, s.functions[i]!.entryEnd));
    expect(body(out, 0).equals(body(m, 0))).toBe(true);
  });
});
