import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WmigError } from '../runtime/errors.js';
import {
  FORMAT_VERSION,
  HEADER_BYTES,
  SECTION_HEADER_BYTES,
  SNAPSHOT_MAGIC,
  ZERO_PAGE_HASH,
  decodeSnapshot,
  describeSnapshot,
  encodeSnapshot,
  hash64,
  isZeroPage,
  pageTable,
  snapshotBytes,
} from '../runtime/snapshot/format.js';
import { readSnapshotFile, writeSnapshotBytes, writeSnapshotFile } from '../runtime/snapshot/file.js';
import { WASM_PAGE_SIZE, type GlobalValue, type Snapshot, type SnapshotInput } from '../runtime/snapshot/types.js';

const P = WASM_PAGE_SIZE;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillRandom(b: Uint8Array, seed: number): void {
  const r = rng(seed);
  for (let i = 0; i < b.length; i++) b[i] = (r() * 256) | 0;
}

function f32FromBits(bits: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, bits, true);
  return v.getFloat32(0, true);
}
function f32Bits(x: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x, true);
  return v.getUint32(0, true);
}
function f64FromBits(bits: bigint): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, bits, true);
  return v.getFloat64(0, true);
}
function f64Bits(x: number): bigint {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return v.getBigUint64(0, true);
}

const GLOBALS: GlobalValue[] = [
  { name: '__stack_pointer', type: 'i32', value: 65536 },
  { name: 'neg_i32', type: 'i32', value: -123456 },
  { name: 'max_i32', type: 'i32', value: 2147483647 },
  { name: 'neg_i64', type: 'i64', value: -2n },
  { name: 'min_i64', type: 'i64', value: -(1n << 63n) },
  { name: 'max_i64', type: 'i64', value: (1n << 63n) - 1n },
  { name: 'f32', type: 'f32', value: 1.5 },
  { name: 'f32_nan_payload', type: 'f32', value: f32FromBits(0x7fc01234) },
  { name: 'f32_neg_nan', type: 'f32', value: f32FromBits(0xffc00001) },
  { name: 'f64', type: 'f64', value: Math.PI },
  { name: 'f64_neg_zero', type: 'f64', value: -0 },
  { name: 'f64_inf', type: 'f64', value: -Infinity },
  { name: 'f64_nan_payload', type: 'f64', value: f64FromBits(0x7ff80000deadbeefn) },
  { name: 'f64_neg_snan', type: 'f64', value: f64FromBits(0xfff0000000000001n) },
  { name: 'ünïcödé', type: 'i32', value: 0 },
];

/** 10 pages: 0 random, 1 zero, 2 only last byte set, 3 zero, 4 only first byte set, 5-6 zero, 7 random, 8-9 zero. */
function makeInput(opts: { module?: boolean; pages?: number } = {}): SnapshotInput {
  const pages = opts.pages ?? 10;
  const mem = new Uint8Array(pages * P);
  if (pages >= 8) {
    fillRandom(mem.subarray(0, P), 1);
    mem[3 * P - 1] = 0x5a;
    mem[4 * P] = 0xa5;
    fillRandom(mem.subarray(7 * P, 8 * P), 2);
  }
  const moduleBytes = new Uint8Array(3000);
  fillRandom(moduleBytes, 3);
  moduleBytes.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const stack = new Uint8Array(777);
  fillRandom(stack, 4);
  const file1 = new TextEncoder().encode('hello, world\n');
  const file2 = new Uint8Array(100_000);
  fillRandom(file2, 5);
  return {
    module: {
      digest: 'a'.repeat(64),
      name: 'examples/build/counter.wasm',
      ...(opts.module === false ? {} : { bytes: moduleBytes }),
    },
    memory: { bytes: mem },
    globals: GLOBALS,
    stack: { data: stack, pendingImport: 'wasi_snapshot_preview1.fd_write' },
    host: { args: ['counter', '--n', '3'], env: { HOME: '/home/x' }, fds: [{ fd: 3, file: 1, pos: 5 }], clock: 1.25 },
    files: [file1, new Uint8Array(0), file2],
    meta: { wmigVersion: '0.1.0', frozenAt: '2024-01-01T00:00:00Z', calls: 42, signal: true },
  };
}

function expectWmig(fn: () => unknown, kind: WmigError['kind'], message?: RegExp | string): WmigError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a WmigError to be thrown').toBeInstanceOf(WmigError);
  const err = thrown as WmigError;
  expect(err.kind, err.message).toBe(kind);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

/** Recompute the header hash and the END checksum after a deliberate edit. */
function reseal(b: Uint8Array): Uint8Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  v.setBigUint64(24, hash64(b.subarray(0, 24)), true);
  v.setBigUint64(b.length - 8, hash64(b.subarray(0, b.length - 8)), true);
  return b;
}

function section(b: Uint8Array, tag: string): { offset: number; length: number; payload: number } {
  const s = describeSnapshot(b).sections.find((x) => x.tag === tag);
  if (!s) throw new Error(`no section ${tag}`);
  return { ...s, payload: s.offset + SECTION_HEADER_BYTES };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Rebuild the full linear memory from a decoded snapshot. */
function flatMemory(s: Snapshot): Uint8Array {
  const m = new Uint8Array(s.memory.pageCount * P);
  for (const p of s.memory.pages) m.set(p.data, p.index * P);
  return m;
}

describe('snapshot format: round trip', () => {
  it('round-trips mixed zero/non-zero pages, globals, stack, host, files, embedded module', () => {
    const input = makeInput();
    const bytes = snapshotBytes(input);
    const s = decodeSnapshot(bytes);

    expect(s.module.digest).toBe(input.module.digest);
    expect(s.module.name).toBe(input.module.name);
    expect(sameBytes(s.module.bytes!, input.module.bytes!)).toBe(true);

    expect(s.memory.pageCount).toBe(10);
    expect(s.memory.pages.map((p) => p.index)).toEqual([0, 2, 4, 7]);
    for (const p of s.memory.pages) {
      expect(p.data.byteLength).toBe(P);
      expect(sameBytes(p.data, input.memory.bytes.subarray(p.index * P, (p.index + 1) * P))).toBe(true);
      expect(p.hash).toBe(hash64(p.data));
    }
    expect(sameBytes(flatMemory(s), input.memory.bytes)).toBe(true);

    expect(s.stack.pendingImport).toBe('wasi_snapshot_preview1.fd_write');
    expect(sameBytes(s.stack.data, input.stack.data)).toBe(true);
    expect(s.host).toEqual(input.host);
    expect(s.files.length).toBe(input.files.length);
    s.files.forEach((f, i) => expect(sameBytes(f, input.files[i]!)).toBe(true));
    expect(s.meta).toEqual(input.meta);

    expect(s.globals.map((g) => [g.name, g.type])).toEqual(GLOBALS.map((g) => [g.name, g.type]));
    for (const [i, g] of s.globals.entries()) {
      const want = GLOBALS[i]!;
      if (want.type === 'i64') expect(g.value).toBe(want.value);
      else if (want.type === 'f32') expect(f32Bits(g.value as number)).toBe(f32Bits(want.value as number));
      else if (want.type === 'f64') expect(f64Bits(g.value as number)).toBe(f64Bits(want.value as number));
      else expect(g.value).toBe(want.value);
    }
    // The bit patterns themselves, not just "same as what we put in".
    const byName = new Map(s.globals.map((g) => [g.name, g.value]));
    expect(f32Bits(byName.get('f32_nan_payload') as number)).toBe(0x7fc01234);
    expect(f32Bits(byName.get('f32_neg_nan') as number)).toBe(0xffc00001);
    expect(f64Bits(byName.get('f64_nan_payload') as number)).toBe(0x7ff80000deadbeefn);
    expect(f64Bits(byName.get('f64_neg_snan') as number)).toBe(0xfff0000000000001n);
    expect(Object.is(byName.get('f64_neg_zero'), -0)).toBe(true);
    expect(byName.get('min_i64')).toBe(-(1n << 63n));
    expect(byName.get('neg_i64')).toBe(-2n);
    expect(byName.get('neg_i32')).toBe(-123456);
  });

  it('decoded data are views into the input bytes, not copies', () => {
    const bytes = snapshotBytes(makeInput());
    const s = decodeSnapshot(bytes);
    for (const p of s.memory.pages) expect(p.data.buffer).toBe(bytes.buffer);
    expect(s.stack.data.buffer).toBe(bytes.buffer);
    expect(s.files[2]!.buffer).toBe(bytes.buffer);
    expect(s.module.bytes!.buffer).toBe(bytes.buffer);
  });

  it('round-trips without an embedded module (no MODL section)', () => {
    const bytes = snapshotBytes(makeInput({ module: false }));
    const s = decodeSnapshot(bytes);
    expect(s.module.bytes).toBeUndefined();
    expect(s.module.digest).toBe('a'.repeat(64));
    const d = describeSnapshot(bytes);
    expect(d.module).toEqual({ digest: 'a'.repeat(64), name: 'examples/build/counter.wasm', embedded: false, bytes: null });
    expect(d.sections.map((x) => x.tag)).toEqual(['META', 'GLOB', 'STAK', 'HOST', 'FILE', 'MEMT', 'MEMD', 'END ']);
  });

  it('round-trips an empty snapshot (no pages, globals, files, stack)', () => {
    const input: SnapshotInput = {
      module: { digest: '', name: '' },
      memory: { bytes: new Uint8Array(0) },
      globals: [],
      stack: { data: new Uint8Array(0), pendingImport: '' },
      host: null,
      files: [],
      meta: {},
    };
    const s = decodeSnapshot(snapshotBytes(input));
    expect(s.memory).toEqual({ pageCount: 0, pages: [] });
    expect(s.globals).toEqual([]);
    expect(s.files).toEqual([]);
    expect(s.host).toBeNull();
    expect(s.stack.data.byteLength).toBe(0);
  });

  it('is deterministic: re-encoding a decoded snapshot gives identical bytes', () => {
    const bytes = snapshotBytes(makeInput());
    const s = decodeSnapshot(bytes);
    const again = snapshotBytes({ ...s, memory: { bytes: flatMemory(s) } });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('encodeSnapshot chunks concatenate to snapshotBytes, and page chunks are views of memory', () => {
    const input = makeInput();
    const chunks = encodeSnapshot(input);
    expect(Buffer.concat(chunks).equals(Buffer.from(snapshotBytes(input)))).toBe(true);
    const memViews = chunks.filter((c) => c.buffer === input.memory.bytes.buffer);
    expect(memViews.length).toBe(4);
    expect(memViews.every((c) => c.byteLength === P)).toBe(true);
    expect(chunks.some((c) => c.buffer === input.module.bytes!.buffer)).toBe(true);
    expect(chunks.some((c) => c.buffer === input.files[2]!.buffer)).toBe(true);
  });

  it('accepts a Buffer and returns plain Uint8Array views', () => {
    const buf = Buffer.from(snapshotBytes(makeInput()));
    const s = decodeSnapshot(buf);
    expect(Object.getPrototypeOf(s.memory.pages[0]!.data)).toBe(Uint8Array.prototype);
    expect(s.memory.pages[0]!.data.buffer).toBe(buf.buffer);
  });

  it('starts with the magic and the format version', () => {
    const bytes = snapshotBytes(makeInput());
    expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(SNAPSHOT_MAGIC));
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('WMIGSNAP');
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(FORMAT_VERSION);
    expect(FORMAT_VERSION).toBe(3);
  });
});

describe('snapshot format: zero pages', () => {
  it('isZeroPage checks every byte', () => {
    const page = new Uint8Array(P);
    expect(isZeroPage(page)).toBe(true);
    for (const at of [0, 1, 7, 8, P / 2, P - 8, P - 1]) {
      page[at] = 1;
      expect(isZeroPage(page)).toBe(false);
      page[at] = 0;
    }
    expect(ZERO_PAGE_HASH).toBe(hash64(page));
  });

  it('a 64 MiB all-zero memory costs no more than a 1-page all-zero memory', () => {
    const small = { ...makeInput({ pages: 1 }), memory: { bytes: new Uint8Array(P) } };
    const big = { ...small, memory: { bytes: new Uint8Array(1024 * P) } };
    const a = snapshotBytes(small);
    const b = snapshotBytes(big);
    // Only the page count's digits in META differ ("1" vs "1024"): no page data, no table entries.
    expect(b.length - a.length).toBe('1024'.length - '1'.length);
    expect(section(b, 'META').length - section(a, 'META').length).toBe(3);
    const d = describeSnapshot(b);
    expect(d.pages).toEqual({ total: 1024, present: 0, elided: 1024 });
    expect(d.memoryBytes).toBe(64 * 1024 * 1024);
    expect(section(b, 'MEMD').length).toBe(0);
    expect(section(b, 'MEMT').length).toBe(8);
    expect(decodeSnapshot(b).memory).toEqual({ pageCount: 1024, pages: [] });
  });

  it('each present page costs exactly its data plus a 12-byte table entry', () => {
    const base = { ...makeInput(), memory: { bytes: new Uint8Array(16 * P) } };
    const zero = snapshotBytes(base);
    const mem = new Uint8Array(16 * P);
    for (let i = 0; i < 16; i += 2) mem[i * P + 100] = 1;
    const half = snapshotBytes({ ...base, memory: { bytes: mem } });
    expect(half.length - zero.length).toBe(8 * (P + 12));
    expect([...pageTable(decodeSnapshot(half)).keys()]).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
  });
});

describe('snapshot format: pageTable and describeSnapshot', () => {
  it('pageTable maps present page index to its data hash', () => {
    const input = makeInput();
    const t = pageTable(decodeSnapshot(snapshotBytes(input)));
    expect([...t.keys()]).toEqual([0, 2, 4, 7]);
    for (const [i, h] of t) expect(h).toBe(hash64(input.memory.bytes.subarray(i * P, (i + 1) * P)));
    expect(t.has(1)).toBe(false);
  });

  it('pageTable of two snapshots tells exactly the changed pages', () => {
    const input = makeInput();
    const a = pageTable(decodeSnapshot(snapshotBytes(input)));
    const mem2 = input.memory.bytes.slice();
    mem2[7 * P + 5]! ^= 1; // change page 7
    mem2[5 * P] = 9; // page 5 becomes present
    mem2.fill(0, 2 * P, 3 * P); // page 2 becomes zero
    const b = pageTable(decodeSnapshot(snapshotBytes({ ...input, memory: { bytes: mem2 } })));
    const changed = [...new Set([...a.keys(), ...b.keys()])]
      .filter((i) => (a.get(i) ?? ZERO_PAGE_HASH) !== (b.get(i) ?? ZERO_PAGE_HASH))
      .sort((x, y) => x - y);
    expect(changed).toEqual([2, 5, 7]);
  });

  it('describes a snapshot without the caller knowing the layout', () => {
    const input = makeInput();
    const bytes = snapshotBytes(input);
    const d = describeSnapshot(bytes);
    expect(d.formatVersion).toBe(3);
    expect(d.fileBytes).toBe(bytes.length);
    expect(d.module).toEqual({ digest: 'a'.repeat(64), name: 'examples/build/counter.wasm', embedded: true, bytes: 3000 });
    expect(d.pages).toEqual({ total: 10, present: 4, elided: 6 });
    expect(d.memoryBytes).toBe(10 * P);
    expect(d.stackBytes).toBe(777);
    expect(d.pendingImport).toBe('wasi_snapshot_preview1.fd_write');
    expect(d.host).toEqual(input.host);
    expect(d.files).toEqual([
      { index: 0, bytes: 13 },
      { index: 1, bytes: 0 },
      { index: 2, bytes: 100_000 },
    ]);
    expect(d.meta).toEqual(input.meta);
    const v = new Map(d.globals.map((g) => [g.name, g.value]));
    expect(v.get('min_i64')).toBe('-9223372036854775808');
    expect(v.get('neg_i32')).toBe('-123456');
    expect(v.get('f32')).toBe('1.5');
    expect(v.get('f32_nan_payload')).toBe('nan:0x401234');
    expect(v.get('f64_nan_payload')).toBe('nan:0x80000deadbeef');
    expect(v.get('f64_neg_snan')).toBe('-nan:0x1');
    expect(v.get('f64_neg_zero')).toBe('-0');
    expect(v.get('f64_inf')).toBe('-Infinity');
    // Sections tile the file: header, then each section header + payload back to back.
    expect(d.sections.map((s) => s.tag)).toEqual(['META', 'MODL', 'GLOB', 'STAK', 'HOST', 'FILE', 'MEMT', 'MEMD', 'END ']);
    let at = HEADER_BYTES;
    for (const s of d.sections) {
      expect(s.offset).toBe(at);
      at += SECTION_HEADER_BYTES + s.length;
    }
    expect(at).toBe(bytes.length);
    expect(d.sections.find((s) => s.tag === 'MEMD')!.length).toBe(4 * P);
    expect(d.sections.find((s) => s.tag === 'MEMT')!.length).toBe(8 + 4 * 12);
  });

  it('describeSnapshot fails on a corrupt file like decodeSnapshot', () => {
    const bytes = snapshotBytes(makeInput());
    bytes[100]! ^= 0xff;
    expectWmig(() => describeSnapshot(bytes), 'CORRUPT_SNAPSHOT', /checksum/);
  });
});

describe('snapshot format: damage is detected', () => {
  it('any single flipped byte (200 seeded positions across every section) → CORRUPT_SNAPSHOT', () => {
    const good = snapshotBytes(makeInput());
    const sections = describeSnapshot(good).sections;
    const r = rng(20240611);
    const positions = new Set<number>();
    // Every header byte, and for each section its header, first and last payload bytes, and samples.
    for (let i = 0; i < HEADER_BYTES; i++) positions.add(i);
    for (const s of sections) {
      for (let i = 0; i < SECTION_HEADER_BYTES; i += 3) positions.add(s.offset + i);
      if (s.length > 0) {
        positions.add(s.offset + SECTION_HEADER_BYTES);
        positions.add(s.offset + SECTION_HEADER_BYTES + s.length - 1);
        for (let k = 0; k < 4; k++) positions.add(s.offset + SECTION_HEADER_BYTES + Math.floor(r() * s.length));
      }
    }
    while (positions.size < 200) positions.add(Math.floor(r() * good.length));
    expect(positions.size).toBeGreaterThanOrEqual(200);
    for (const pos of positions) {
      const bad = good.slice();
      bad[pos]! ^= 1 + Math.floor(r() * 255);
      let err: unknown;
      try {
        decodeSnapshot(bad);
      } catch (e) {
        err = e;
      }
      expect(err, `flip at ${pos} was not detected`).toBeInstanceOf(WmigError);
      expect((err as WmigError).kind, `flip at ${pos}: ${(err as WmigError).message}`).toBe('CORRUPT_SNAPSHOT');
    }
  });

  it('truncation at many lengths → CORRUPT_SNAPSHOT saying truncated and how many bytes were expected', () => {
    const good = snapshotBytes(makeInput());
    const lengths = new Set<number>([0, 1, 4, 7, 8, 12, 16, 24, 31, 32, 33, good.length - 1, good.length - 8]);
    for (const s of describeSnapshot(good).sections) {
      lengths.add(s.offset);
      lengths.add(s.offset + 5);
      lengths.add(s.offset + SECTION_HEADER_BYTES);
    }
    const r = rng(7);
    while (lengths.size < 80) lengths.add(Math.floor(r() * good.length));
    for (const n of lengths) {
      const err = expectWmig(() => decodeSnapshot(good.subarray(0, n)), 'CORRUPT_SNAPSHOT', /truncated/);
      if (n >= HEADER_BYTES) expect(err.message).toContain(`expected ${good.length} bytes, got ${n}`);
      else expect(err.message).toContain(`expected at least ${HEADER_BYTES} bytes, got ${n}`);
    }
  });

  it('trailing garbage → CORRUPT_SNAPSHOT', () => {
    const good = snapshotBytes(makeInput());
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    expectWmig(() => decodeSnapshot(longer), 'CORRUPT_SNAPSHOT', /3 unexpected trailing bytes/);
  });

  it('bad magic → CORRUPT_SNAPSHOT "not a wmig snapshot"', () => {
    const good = snapshotBytes(makeInput());
    const bad = good.slice();
    bad[0] = 0x00;
    expectWmig(() => decodeSnapshot(bad), 'CORRUPT_SNAPSHOT', /not a wmig snapshot/);
    const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expectWmig(() => decodeSnapshot(wasm), 'CORRUPT_SNAPSHOT', /not a wmig snapshot/);
    expectWmig(() => decodeSnapshot(new TextEncoder().encode('{"hello": 1}')), 'CORRUPT_SNAPSHOT', /not a wmig snapshot/);
  });

  it('a newer format version → UNSUPPORTED_VERSION (file otherwise intact)', () => {
    const bytes = snapshotBytes(makeInput());
    new DataView(bytes.buffer).setUint32(8, 4, true);
    reseal(bytes);
    const err = expectWmig(() => decodeSnapshot(bytes), 'UNSUPPORTED_VERSION');
    expect(err.message).toBe('snapshot format v4 is newer than this wmig supports (v3)');
    // Without resealing, a changed version is damage, not a newer file.
    const damaged = snapshotBytes(makeInput());
    damaged[8] = 4;
    expectWmig(() => decodeSnapshot(damaged), 'CORRUPT_SNAPSHOT', /header/);
  });

  it('version 0 → CORRUPT_SNAPSHOT', () => {
    const bytes = snapshotBytes(makeInput());
    new DataView(bytes.buffer).setUint32(8, 0, true);
    expectWmig(() => decodeSnapshot(reseal(bytes)), 'CORRUPT_SNAPSHOT', /invalid format version 0/);
  });
});

describe('snapshot format: structure is validated even with a valid checksum', () => {
  const good = snapshotBytes(makeInput());
  const edit = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return reseal(b);
  };

  it('page data that does not match its table hash', () => {
    const memd = section(good, 'MEMD');
    const b = edit((x) => (x[memd.payload + P + 10]! ^= 0x40)); // second present page = page 2
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /page 2 hash mismatch/);
  });

  it('page indexes not increasing, or out of range', () => {
    const memt = section(good, 'MEMT');
    const b = edit((_, v) => v.setUint32(memt.payload + 8 + 12, 0, true)); // entry 1: index 2 → 0
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /page 0 is not after page 0/);
    const c = edit((_, v) => v.setUint32(memt.payload + 8 + 3 * 12, 10, true)); // last entry: 7 → 10 (of 10)
    expectWmig(() => decodeSnapshot(c), 'CORRUPT_SNAPSHOT', /page 10 is out of range/);
  });

  it('unknown section tag', () => {
    const glob = section(good, 'GLOB');
    const b = edit((x) => x.set(new TextEncoder().encode('GLOX'), glob.offset));
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /unknown section tag "GLOX"/);
  });

  it('sections out of order', () => {
    const glob = section(good, 'GLOB');
    const b = edit((x) => x.set(new TextEncoder().encode('MEMT'), glob.offset));
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /section GLOB is missing/);
  });

  it('section length past the end of the file', () => {
    const host = section(good, 'HOST');
    const b = edit((_, v) => v.setBigUint64(host.offset + 8, BigInt(good.length), true));
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /section HOST .* past the end of the file/);
  });

  it('non-zero reserved flags', () => {
    const stak = section(good, 'STAK');
    const b = edit((_, v) => v.setUint32(stak.offset + 4, 1, true));
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /section STAK has unknown flags/);
    const c = edit((_, v) => v.setUint32(12, 1, true));
    expectWmig(() => decodeSnapshot(c), 'CORRUPT_SNAPSHOT', /header flags/);
  });

  it('META / HOST that are not JSON', () => {
    const meta = section(good, 'META');
    const b = edit((x) => (x[meta.payload] = 0x7b + 1)); // '{' → '|'
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /META section is not valid UTF-8 JSON/);
    const host = section(good, 'HOST');
    const c = edit((x) => (x[host.payload + host.length - 1] = 0xff)); // invalid UTF-8
    expectWmig(() => decodeSnapshot(c), 'CORRUPT_SNAPSHOT', /HOST section is not valid UTF-8 JSON/);
  });

  it('META counts that disagree with the sections', () => {
    const glob = section(good, 'GLOB');
    const b = edit((_, v) => v.setUint32(glob.payload, GLOBALS.length - 1, true));
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /GLOB holds \d+ globals, META says/);
  });

  it('a global with an unknown type byte', () => {
    const glob = section(good, 'GLOB');
    const nameLen = new DataView(good.buffer).getUint16(glob.payload + 4, true);
    const b = edit((x) => (x[glob.payload + 4 + 2 + nameLen] = 0x7b));
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /unknown type 0x7b/);
  });

  it('a file blob length running past its section', () => {
    const file = section(good, 'FILE');
    const b = edit((_, v) => v.setBigUint64(file.payload + 4, 14n, true)); // file 0 is 13 bytes
    expectWmig(() => decodeSnapshot(b), 'CORRUPT_SNAPSHOT', /section FILE/);
  });
});

describe('snapshot format: decode with verify: false', () => {
  it('skips only the checksum and page hashes; structure is still checked', () => {
    const good = snapshotBytes(makeInput());
    const memd = section(good, 'MEMD');
    const flipped = good.slice();
    flipped[memd.payload + 3]! ^= 1; // page 0 data, not resealed: checksum and page hash both wrong
    expectWmig(() => decodeSnapshot(flipped), 'CORRUPT_SNAPSHOT', /checksum/);
    const s = decodeSnapshot(flipped, { verify: false });
    expect(s.memory.pages[0]!.data[3]).toBe(good[memd.payload + 3]! ^ 1);

    const memt = section(good, 'MEMT');
    const outOfRange = good.slice();
    new DataView(outOfRange.buffer).setUint32(memt.payload + 8 + 3 * 12, 10, true);
    expectWmig(() => decodeSnapshot(outOfRange, { verify: false }), 'CORRUPT_SNAPSHOT', /out of range/);
    expectWmig(() => decodeSnapshot(good.subarray(0, 1000), { verify: false }), 'CORRUPT_SNAPSHOT', /truncated/);
    const header = good.slice();
    header[9]! ^= 1;
    expectWmig(() => decodeSnapshot(header, { verify: false }), 'CORRUPT_SNAPSHOT', /header/);
  });
});

describe('snapshot format: encoder input checks', () => {
  it('rejects memory that is not whole pages, and mistyped globals', () => {
    const input = makeInput();
    expectWmig(() => encodeSnapshot({ ...input, memory: { bytes: new Uint8Array(P + 1) } }), 'INTERNAL', /multiple/);
    expectWmig(
      () => encodeSnapshot({ ...input, globals: [{ name: 'g', type: 'i64', value: 1 }] }),
      'INTERNAL',
      /i64 value 1 is not a 64-bit bigint/,
    );
    expectWmig(
      () => encodeSnapshot({ ...input, globals: [{ name: 'g', type: 'i32', value: 1.5 }] }),
      'INTERNAL',
      /not a 32-bit integer/,
    );
    expectWmig(() => encodeSnapshot({ ...input, meta: { x: NaN } }), 'INTERNAL', /meta.x/);
    expectWmig(() => encodeSnapshot({ ...input, host: { n: 1n } }), 'INTERNAL', /JSON/);
  });
});

describe('snapshot files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-snap-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempFiles = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  it('writes atomically and reads back', () => {
    const input = makeInput();
    const file = path.join(dir, 'a.wmig');
    const n = writeSnapshotFile(file, input);
    expect(n).toBe(fs.statSync(file).size);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(snapshotBytes(input)))).toBe(true);
    const { bytes, snapshot } = readSnapshotFile(file);
    expect(bytes.length).toBe(n);
    expect(sameBytes(flatMemory(snapshot), input.memory.bytes)).toBe(true);
    expect(tempFiles()).toEqual([]);
    // Overwriting replaces the content.
    const smaller = makeInput({ module: false });
    const m = writeSnapshotFile(file, smaller);
    expect(m).toBeLessThan(n);
    expect(readSnapshotFile(file).snapshot.module.bytes).toBeUndefined();
    expect(tempFiles()).toEqual([]);
  });

  it('survives short writes (writev writing only part of the chunks)', () => {
    const input = makeInput();
    const real = fs.writevSync;
    let calls = 0;
    vi.spyOn(fs, 'writevSync').mockImplementation(((fd: number, bufs: NodeJS.ArrayBufferView[]) => {
      calls++;
      // Write at most 7,777 bytes of the first buffers per call.
      const first = bufs[0] as Uint8Array;
      return real(fd, [first.subarray(0, Math.min(first.byteLength, 7777))]);
    }) as typeof fs.writevSync);
    const file = path.join(dir, 'short.wmig');
    const n = writeSnapshotFile(file, input);
    expect(calls).toBeGreaterThan(10);
    expect(n).toBe(snapshotBytes(input).length);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(snapshotBytes(input)))).toBe(true);
  });

  it('writing into a non-existent directory → CANT_WRITE naming the path', () => {
    const file = path.join(dir, 'missing', 'a.wmig');
    const err = expectWmig(() => writeSnapshotFile(file, makeInput()), 'CANT_WRITE', file);
    expect(err.message).toMatch(/ENOENT/);
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
  });

  it('target path is a directory → CANT_WRITE, directory untouched, no temp file left', () => {
    const target = path.join(dir, 'adir');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    expectWmig(() => writeSnapshotFile(target, makeInput()), 'CANT_WRITE', target);
    expect(fs.statSync(target).isDirectory()).toBe(true);
    expect(fs.readdirSync(target)).toEqual(['keep']);
    expect(tempFiles()).toEqual([]);
  });

  for (const failing of ['writevSync', 'fsyncSync', 'renameSync'] as const) {
    it(`a failure in ${failing} leaves the previous file byte-identical and no temp file`, () => {
      const file = path.join(dir, 'prev.wmig');
      writeSnapshotFile(file, makeInput({ module: false }));
      const before = fs.readFileSync(file);
      const real = fs[failing] as (...a: unknown[]) => unknown;
      let failed = false;
      vi.spyOn(fs, failing).mockImplementation(((...args: unknown[]) => {
        if (failing === 'writevSync' && !failed) {
          // Write part of the data first, then fail like a full disk.
          failed = true;
          real(args[0], [(args[1] as Uint8Array[])[0]]);
        }
        failed = true;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }) as never);
      const err = expectWmig(() => writeSnapshotFile(file, makeInput()), 'CANT_WRITE', /ENOSPC/);
      expect(err.message).toContain(file);
      expect(failed).toBe(true);
      vi.restoreAllMocks();
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      expect(tempFiles()).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual(['prev.wmig']);
    });
  }

  it('writeSnapshotBytes writes encoded bytes (or chunks) atomically, same failure guarantees', () => {
    const input = makeInput();
    const bytes = snapshotBytes(input);
    const a = path.join(dir, 'a.wmig');
    const b = path.join(dir, 'b.wmig');
    expect(writeSnapshotBytes(a, bytes)).toBe(bytes.length);
    expect(writeSnapshotBytes(b, encodeSnapshot(input))).toBe(bytes.length);
    expect(fs.readFileSync(a).equals(Buffer.from(bytes))).toBe(true);
    expect(fs.readFileSync(b).equals(Buffer.from(bytes))).toBe(true);
    vi.spyOn(fs, 'fsyncSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expectWmig(() => writeSnapshotBytes(a, new Uint8Array(10)), 'CANT_WRITE', /EIO/);
    vi.restoreAllMocks();
    expect(fs.readFileSync(a).equals(Buffer.from(bytes))).toBe(true);
    expect(tempFiles()).toEqual([]);
  });

  it('reading a missing file → NO_INPUT "snapshot file not found"', () => {
    const file = path.join(dir, 'nope.wmig');
    expectWmig(() => readSnapshotFile(file), 'NO_INPUT', `snapshot file not found: ${file}`);
  });

  it('reading a directory → NO_INPUT', () => {
    expectWmig(() => readSnapshotFile(dir), 'NO_INPUT', /directory/);
  });

  it('reading a damaged or truncated file → CORRUPT_SNAPSHOT naming the file', () => {
    const file = path.join(dir, 'bad.wmig');
    const bytes = snapshotBytes(makeInput());
    fs.writeFileSync(file, bytes.subarray(0, 5000));
    const err = expectWmig(() => readSnapshotFile(file), 'CORRUPT_SNAPSHOT', /truncated/);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
  });
});

describe('snapshot format: earlier versions (v1; v2 with its JUMP section)', () => {
  /**
   * A v3 file as an earlier version laid it out: v1 is v3 under another version number; v2 adds
   * JUMP after STAK (next token, target count, then the targets, which `jumpTargets` stands for).
   */
  const asVersion = (v3: Uint8Array, version: 1 | 2, jump?: { count: number; targets: Uint8Array }): Uint8Array => {
    const stak = section(v3, 'STAK');
    const splitAt = stak.payload + stak.length;
    let inserted = new Uint8Array(0);
    if (jump) {
      const payload = new Uint8Array(8 + jump.targets.length);
      const pv = new DataView(payload.buffer);
      pv.setUint32(0, jump.count + 1, true);
      pv.setUint32(4, jump.count, true);
      payload.set(jump.targets, 8);
      inserted = new Uint8Array(SECTION_HEADER_BYTES + payload.length);
      inserted.set([0x4a, 0x55, 0x4d, 0x50]); // "JUMP"
      new DataView(inserted.buffer).setBigUint64(8, BigInt(payload.length), true);
      inserted.set(payload, SECTION_HEADER_BYTES);
    }
    const out = new Uint8Array(v3.length + inserted.length);
    out.set(v3.subarray(0, splitAt));
    out.set(inserted, splitAt);
    out.set(v3.subarray(splitAt), splitAt + inserted.length);
    const v = new DataView(out.buffer);
    v.setUint32(8, version, true);
    v.setBigUint64(16, BigInt(out.length), true);
    return reseal(out);
  };
  const noTargets = { count: 0, targets: new Uint8Array(0) };

  it('reads v1 files and v2 files whose JUMP holds no setjmp stacks: the same snapshot as v3', () => {
    const v3 = snapshotBytes(makeInput());
    const fromV3 = decodeSnapshot(v3);
    for (const old of [asVersion(v3, 1), asVersion(v3, 2, noTargets)]) {
      const d = describeSnapshot(old);
      expect(d.sections.some((x) => x.tag === 'JUMP')).toBe(d.formatVersion === 2);
      const s = decodeSnapshot(old);
      expect(sameBytes(s.stack.data, fromV3.stack.data)).toBe(true);
      expect(s.stack.pendingImport).toBe(fromV3.stack.pendingImport);
      expect(s.globals).toEqual(fromV3.globals);
      expect(s.host).toEqual(fromV3.host);
      expect(flatMemory(s)).toEqual(flatMemory(fromV3));
    }
  });

  it('a v2 file with setjmp stacks cannot be resumed: UNSUPPORTED_VERSION, saying why', () => {
    // One target as v2 wrote it: token, jmp_buf, flags, stack pointer, stack length, stack.
    const target = new Uint8Array(24 + 16);
    const t = new DataView(target.buffer);
    t.setUint32(0, 1, true);
    t.setUint32(4, 0x1234, true);
    t.setBigUint64(16, 16n, true);
    const v2 = asVersion(snapshotBytes(makeInput()), 2, { count: 1, targets: target });
    expectWmig(() => decodeSnapshot(v2), 'UNSUPPORTED_VERSION', /1 setjmp stack\(s\) of format v2's setjmp\/longjmp/);
  });

  it('JUMP is v2\'s alone: in a v1 or v3 file it is corruption, and a v2 file must have it', () => {
    const v3 = snapshotBytes(makeInput());
    for (const version of [1, 3]) {
      const b = asVersion(v3, 2, noTargets);
      new DataView(b.buffer).setUint32(8, version, true);
      expectWmig(() => decodeSnapshot(reseal(b)), 'CORRUPT_SNAPSHOT', new RegExp(`section JUMP in a format v${version} file`));
    }
    const v2WithoutJump = asVersion(v3, 2);
    expectWmig(() => decodeSnapshot(v2WithoutJump), 'CORRUPT_SNAPSHOT', /section JUMP is missing/);
  });
});
