/**
 * Snapshot format v1: pure encode / decode, no I/O. The byte layout is documented in
 * FORMAT.md next to this file; this module is its only implementation.
 *
 *   header (32 bytes, the same in every format version)
 *   META  MODL?  GLOB  STAK  HOST  FILE  MEMT  MEMD  END
 *
 * Decoded snapshots alias the bytes they were decoded from (pages, stack data, file blobs,
 * module bytes are views, not copies): keep the buffer alive and do not modify it.
 */
import { xxh3 } from '@node-rs/xxhash';
import { WmigError } from '../errors.js';
import {
  WASM_PAGE_SIZE,
  type GlobalType,
  type GlobalValue,
  type MemoryPage,
  type Snapshot,
  type SnapshotInput,
} from './types.js';

/** The format version this code writes, and the newest it reads. */
export const FORMAT_VERSION = 1;
/** The first 8 bytes of every snapshot file: ASCII "WMIGSNAP". */
export const SNAPSHOT_MAGIC: Uint8Array = new Uint8Array([0x57, 0x4d, 0x49, 0x47, 0x53, 0x4e, 0x41, 0x50]);
/** Size of the fixed header: magic, version, flags, file length, header hash. */
export const HEADER_BYTES = 32;
/** Size of every section header: tag, flags, payload length. */
export const SECTION_HEADER_BYTES = 16;
/** wasm32 memories have at most 65536 pages (4 GiB). */
export const MAX_PAGES = 65536;

/** Section tags in the order they must appear. MODL is the only optional one. */
export const SECTION_ORDER = ['META', 'MODL', 'GLOB', 'STAK', 'HOST', 'FILE', 'MEMT', 'MEMD', 'END '] as const;
export type SectionTag = (typeof SECTION_ORDER)[number];
const OPTIONAL_SECTIONS: ReadonlySet<string> = new Set(['MODL']);

/** Global types are stored as their WebAssembly value-type byte. */
const GLOBAL_TYPE_CODE: Record<GlobalType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };
const GLOBAL_TYPE_BY_CODE = new Map<number, GlobalType>(
  (Object.entries(GLOBAL_TYPE_CODE) as [GlobalType, number][]).map(([t, c]) => [c, t]),
);

const MEMT_ENTRY_BYTES = 12; // u32 index + u64 hash

// ---------------------------------------------------------------------------------------------
// Hashing

/**
 * xxh3-64 (seed 0). Streaming through one reused hasher: in @node-rs/xxhash 1.7 the one-shot
 * `xxh3.xxh64()` is ~4x slower than `Xxh3.update()` on 64 KiB inputs (measured ~1.5 vs ~6.5 GB/s).
 */
const pageHasher = xxh3.Xxh3.withSeed(0n);
export function hash64(data: Uint8Array): bigint {
  pageHasher.reset();
  pageHasher.update(data);
  return pageHasher.digest();
}

/** xxh3-64 over the concatenation of `parts` (same value as hashing the concatenated bytes). */
function hashParts(parts: readonly Uint8Array[]): bigint {
  const h = xxh3.Xxh3.withSeed(0n);
  for (const p of parts) if (p.byteLength > 0) h.update(p);
  return h.digest();
}

const ZERO_PAGE = new Uint8Array(WASM_PAGE_SIZE);
/** xxh3-64 of an all-zero page: the hash an absent page would have (for page diffs). */
export const ZERO_PAGE_HASH: bigint = hash64(ZERO_PAGE);

/**
 * Whether a 64 KiB page is all zero. Uses the native memcmp behind Buffer.compare against a
 * shared zero page: ~27 GB/s, versus ~3.6 GB/s for a BigUint64Array / Uint32Array word loop.
 */
export function isZeroPage(page: Uint8Array): boolean {
  return Buffer.compare(page, ZERO_PAGE) === 0;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
function tagAt(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}
function printableTag(tag: string): string {
  return /^[\x20-\x7e]{4}$/.test(tag) ? JSON.stringify(tag) : `0x${[...tag].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')}`;
}
function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

function internal(message: string): WmigError {
  return new WmigError('INTERNAL', `cannot encode snapshot: ${message}`);
}
function corrupt(message: string): WmigError {
  return new WmigError('CORRUPT_SNAPSHOT', `corrupt snapshot: ${message}`);
}

/** A growable little-endian writer for the small binary sections. */
class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }
  u8(v: number): void {
    this.view.setUint8(this.reserve(1), v);
  }
  u16(v: number): void {
    this.view.setUint16(this.reserve(2), v, true);
  }
  u32(v: number): void {
    this.view.setUint32(this.reserve(4), v, true);
  }
  u64(v: number | bigint): void {
    this.view.setBigUint64(this.reserve(8), BigInt(v), true);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.reserve(b.length));
  }
  /** Reserve 8 raw bytes and give a DataView on them. */
  raw8(): DataView {
    const at = this.reserve(8);
    return new DataView(this.buf.buffer, at, 8);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A bounds-checked little-endian reader over one section's payload. */
class Reader {
  private readonly view: DataView;
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    private readonly section: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }
  private take(n: number, what: string): number {
    if (n > this.end - this.pos) {
      throw corrupt(
        `section ${this.section}: ${what} (${n} bytes at payload offset ${this.pos - this.start}) runs past the section end (payload is ${this.end - this.start} bytes)`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(what: string): number {
    return this.view.getUint8(this.take(1, what));
  }
  u16(what: string): number {
    return this.view.getUint16(this.take(2, what), true);
  }
  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }
  /** A u64 as a number; values beyond 2^53 are reported as corruption (no snapshot is that big). */
  u64(what: string): number {
    const at = this.take(8, what);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`section ${this.section}: ${what} ${v} is out of range`);
    return Number(v);
  }
  u64big(what: string): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }
  bytesView(n: number, what: string): Uint8Array {
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }
  dataView8(what: string): DataView {
    const at = this.take(8, what);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + at, 8);
  }
  utf8(n: number, what: string): string {
    const b = this.bytesView(n, what);
    try {
      return utf8Decoder.decode(b);
    } catch {
      throw corrupt(`section ${this.section}: ${what} is not valid UTF-8`);
    }
  }
  expectEnd(): void {
    if (this.pos !== this.end) {
      throw corrupt(`section ${this.section}: ${this.end - this.pos} unexpected bytes after the last field`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// META: what the JSON section holds

interface MetaSection {
  module: { digest: string; name: string; embedded: boolean; bytes: number | null };
  memory: { pageCount: number; presentPages: number };
  globals: number;
  stackBytes: number;
  files: number;
  meta: Record<string, string | number | boolean>;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkInput(input: SnapshotInput): void {
  const mem = input.memory?.bytes;
  if (!(mem instanceof Uint8Array)) throw internal('memory.bytes is not a Uint8Array');
  if (mem.byteLength % WASM_PAGE_SIZE !== 0) {
    throw internal(`memory is ${mem.byteLength} bytes, not a multiple of the ${WASM_PAGE_SIZE}-byte page size`);
  }
  if (mem.byteLength / WASM_PAGE_SIZE > MAX_PAGES) throw internal(`memory has more than ${MAX_PAGES} pages`);
  if (typeof input.module?.digest !== 'string' || typeof input.module.name !== 'string') {
    throw internal('module.digest and module.name must be strings');
  }
  if (input.module.bytes !== undefined && !(input.module.bytes instanceof Uint8Array)) {
    throw internal('module.bytes must be a Uint8Array when present');
  }
  if (!(input.stack?.data instanceof Uint8Array) || typeof input.stack.pendingImport !== 'string') {
    throw internal('stack.data must be a Uint8Array and stack.pendingImport a string');
  }
  for (const [i, f] of input.files.entries()) {
    if (!(f instanceof Uint8Array)) throw internal(`files[${i}] is not a Uint8Array`);
  }
  for (const [k, v] of Object.entries(input.meta)) {
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw internal(`meta.${k} must be a string, a finite number or a boolean`);
  }
}

function encodeGlobals(globals: readonly GlobalValue[]): Uint8Array {
  const w = new Writer();
  w.u32(globals.length);
  for (const g of globals) {
    const name = utf8Encoder.encode(g.name);
    if (name.length > 0xffff) throw internal(`global name longer than 65535 bytes: ${g.name.slice(0, 40)}...`);
    const code = GLOBAL_TYPE_CODE[g.type];
    if (code === undefined) throw internal(`global ${g.name}: unknown type ${String(g.type)}`);
    w.u16(name.length);
    w.bytes(name);
    w.u8(code);
    const v = w.raw8(); // zero-filled: i32/f32 leave the upper 4 bytes zero
    const val = g.value;
    switch (g.type) {
      case 'i32':
        if (typeof val !== 'number' || !Number.isInteger(val) || val < -0x80000000 || val > 0xffffffff) {
          throw internal(`global ${g.name}: i32 value ${String(val)} is not a 32-bit integer`);
        }
        v.setInt32(0, val | 0, true);
        break;
      case 'i64':
        if (typeof val !== 'bigint' || val < -(1n << 63n) || val >= 1n << 64n) {
          throw internal(`global ${g.name}: i64 value ${String(val)} is not a 64-bit bigint`);
        }
        v.setBigUint64(0, BigInt.asUintN(64, val), true);
        break;
      case 'f32':
        if (typeof val !== 'number') throw internal(`global ${g.name}: f32 value must be a number`);
        v.setFloat32(0, val, true);
        break;
      case 'f64':
        if (typeof val !== 'number') throw internal(`global ${g.name}: f64 value must be a number`);
        v.setFloat64(0, val, true);
        break;
    }
  }
  return w.finish();
}

/**
 * Encode a snapshot as an ordered list of chunks whose concatenation is the file. Memory pages,
 * the embedded module, stack data and file blobs are subarray views of the input (no copy): do
 * not mutate them until the chunks are written. All-zero pages are left out.
 */
export function encodeSnapshot(input: SnapshotInput): Uint8Array[] {
  checkInput(input);
  const mem = input.memory.bytes;
  const pageCount = mem.byteLength / WASM_PAGE_SIZE;

  // Memory: find present pages first, so the table can precede the data (one pass for readers).
  const present: { index: number; data: Uint8Array; hash: bigint }[] = [];
  for (let i = 0; i < pageCount; i++) {
    const data = mem.subarray(i * WASM_PAGE_SIZE, (i + 1) * WASM_PAGE_SIZE);
    if (!isZeroPage(data)) present.push({ index: i, data, hash: hash64(data) });
  }

  const sections: { tag: SectionTag; parts: Uint8Array[] }[] = [];

  const meta: MetaSection = {
    module: {
      digest: input.module.digest,
      name: input.module.name,
      embedded: input.module.bytes !== undefined,
      bytes: input.module.bytes?.byteLength ?? null,
    },
    memory: { pageCount, presentPages: present.length },
    globals: input.globals.length,
    stackBytes: input.stack.data.byteLength,
    files: input.files.length,
    meta: { ...input.meta },
  };
  sections.push({ tag: 'META', parts: [utf8Encoder.encode(JSON.stringify(meta))] });

  if (input.module.bytes !== undefined) sections.push({ tag: 'MODL', parts: [input.module.bytes] });

  sections.push({ tag: 'GLOB', parts: [encodeGlobals(input.globals)] });

  {
    const name = utf8Encoder.encode(input.stack.pendingImport);
    const w = new Writer();
    w.u32(name.length);
    w.bytes(name);
    w.u64(input.stack.data.byteLength);
    sections.push({ tag: 'STAK', parts: [w.finish(), input.stack.data] });
  }

  {
    let json: string | undefined;
    try {
      json = JSON.stringify(input.host);
    } catch (e) {
      throw internal(`host state is not JSON-serializable: ${(e as Error).message}`);
    }
    if (json === undefined) throw internal('host state is not JSON-serializable (undefined)');
    sections.push({ tag: 'HOST', parts: [utf8Encoder.encode(json)] });
  }

  {
    const parts: Uint8Array[] = [];
    const count = new Writer();
    count.u32(input.files.length);
    parts.push(count.finish());
    for (const f of input.files) {
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(f.byteLength), true);
      parts.push(len, f);
    }
    sections.push({ tag: 'FILE', parts });
  }

  {
    const table = new Uint8Array(8 + present.length * MEMT_ENTRY_BYTES);
    const v = new DataView(table.buffer);
    v.setUint32(0, pageCount, true);
    v.setUint32(4, present.length, true);
    present.forEach((p, i) => {
      v.setUint32(8 + i * MEMT_ENTRY_BYTES, p.index, true);
      v.setBigUint64(8 + i * MEMT_ENTRY_BYTES + 4, p.hash, true);
    });
    sections.push({ tag: 'MEMT', parts: [table] });
  }

  sections.push({ tag: 'MEMD', parts: present.map((p) => p.data) });

  // Assemble: header, then each section header followed by its payload parts.
  const chunks: Uint8Array[] = [];
  const header = new Uint8Array(HEADER_BYTES);
  chunks.push(header);
  let total = HEADER_BYTES;
  for (const s of sections) {
    const payload = s.parts.reduce((n, p) => n + p.byteLength, 0);
    chunks.push(sectionHeader(s.tag, payload));
    for (const p of s.parts) if (p.byteLength > 0) chunks.push(p);
    total += SECTION_HEADER_BYTES + payload;
  }
  const endHeader = sectionHeader('END ', 8);
  chunks.push(endHeader);
  total += SECTION_HEADER_BYTES + 8;

  writeHeader(header, FORMAT_VERSION, total);
  const checksum = hashParts(chunks);
  const end = new Uint8Array(8);
  new DataView(end.buffer).setBigUint64(0, checksum, true);
  chunks.push(end);
  return chunks;
}

function sectionHeader(tag: SectionTag, payloadBytes: number): Uint8Array {
  const h = new Uint8Array(SECTION_HEADER_BYTES);
  h.set(ascii(tag), 0);
  const v = new DataView(h.buffer);
  v.setUint32(4, 0, true);
  v.setBigUint64(8, BigInt(payloadBytes), true);
  return h;
}

/** Fill the 32-byte header: magic, version, flags 0, file length, header hash over bytes 0..23. */
function writeHeader(header: Uint8Array, version: number, fileBytes: number): void {
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  header.set(SNAPSHOT_MAGIC, 0);
  v.setUint32(8, version, true);
  v.setUint32(12, 0, true);
  v.setBigUint64(16, BigInt(fileBytes), true);
  v.setBigUint64(24, hash64(header.subarray(0, 24)), true);
}

/** Encode into one contiguous buffer (one copy of everything). */
export function snapshotBytes(input: SnapshotInput): Uint8Array {
  const chunks = encodeSnapshot(input);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface SectionInfo {
  tag: SectionTag;
  /** Offset of the section header in the file; the payload starts SECTION_HEADER_BYTES later. */
  offset: number;
  /** Payload length in bytes. */
  length: number;
}

interface Decoded {
  snapshot: Snapshot;
  sections: SectionInfo[];
  formatVersion: number;
  fileBytes: number;
}

function truncated(expected: number, got: number, what?: string): WmigError {
  return new WmigError(
    'CORRUPT_SNAPSHOT',
    `snapshot truncated: expected ${what ?? ''}${expected} bytes, got ${got}`,
  );
}

/** Validate the fixed header and return [version, fileBytes]. */
function readHeader(bytes: Uint8Array): { version: number; fileBytes: number } {
  const n = bytes.byteLength;
  const magicLen = Math.min(n, SNAPSHOT_MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw new WmigError('CORRUPT_SNAPSHOT', 'not a wmig snapshot (bad magic)');
  }
  if (n < HEADER_BYTES) throw truncated(HEADER_BYTES, n, 'at least ');
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (v.getBigUint64(24, true) !== hash64(bytes.subarray(0, 24))) {
    throw corrupt('header hash mismatch (header damaged)');
  }
  const version = v.getUint32(8, true);
  if (version > FORMAT_VERSION) {
    throw new WmigError(
      'UNSUPPORTED_VERSION',
      `snapshot format v${version} is newer than this wmig supports (v${FORMAT_VERSION})`,
    );
  }
  if (version < 1) throw corrupt(`invalid format version ${version}`);
  const flags = v.getUint32(12, true);
  if (flags !== 0) throw corrupt(`unknown header flags 0x${flags.toString(16)}`);
  const declared = v.getBigUint64(16, true);
  const minimum = HEADER_BYTES + SECTION_HEADER_BYTES + 8;
  if (declared < BigInt(minimum)) throw corrupt(`declared file length ${declared} is too small`);
  if (declared > BigInt(n)) {
    throw declared > BigInt(Number.MAX_SAFE_INTEGER)
      ? corrupt(`declared file length ${declared} is out of range`)
      : truncated(Number(declared), n);
  }
  const fileBytes = Number(declared);
  if (fileBytes < n) throw corrupt(`${n - fileBytes} unexpected trailing bytes after the end of the snapshot`);
  return { version, fileBytes };
}

export interface DecodeOptions {
  /**
   * Check the whole-file checksum and every page hash (default true). Pass false only for bytes
   * this process has already verified (e.g. handed to a worker after `decodeSnapshot`): the
   * structure (header, section bounds, counts, JSON, page indexes) is still fully checked, so
   * a damaged file still fails cleanly rather than decoding garbage out of bounds.
   */
  verify?: boolean;
}

function decodeInternal(input: Uint8Array, options: DecodeOptions = {}): Decoded {
  const verify = options.verify ?? true;
  if (!(input instanceof Uint8Array)) throw new TypeError('decodeSnapshot expects a Uint8Array');
  // Plain Uint8Array views even when given a Buffer, so decoded fields compare as Uint8Array.
  const bytes =
    Object.getPrototypeOf(input) === Uint8Array.prototype
      ? input
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const { version, fileBytes } = readHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Whole-file checksum, before any structure is trusted.
  const endAt = fileBytes - SECTION_HEADER_BYTES - 8;
  if (tagAt(bytes, endAt) !== 'END ' || view.getUint32(endAt + 4, true) !== 0 || view.getBigUint64(endAt + 8, true) !== 8n) {
    throw corrupt('END section missing or malformed at the end of the file');
  }
  const stored = view.getBigUint64(fileBytes - 8, true);
  const computed = verify ? hash64(bytes.subarray(0, fileBytes - 8)) : stored;
  if (stored !== computed) {
    throw corrupt(`checksum mismatch (stored ${hex64(stored)}, computed ${hex64(computed)}): the file is damaged`);
  }

  // Walk the sections: known tags, in order, each within the file, END last and exactly at the end.
  const sections: SectionInfo[] = [];
  const payloads = new Map<SectionTag, { start: number; end: number }>();
  let at = HEADER_BYTES;
  let orderIdx = 0;
  for (;;) {
    if (fileBytes - at < SECTION_HEADER_BYTES) {
      throw corrupt(`section header at offset ${at} runs past the end of the file (${fileBytes} bytes)`);
    }
    const tag = tagAt(bytes, at);
    const idx = SECTION_ORDER.indexOf(tag as SectionTag);
    if (idx < 0) throw corrupt(`unknown section tag ${printableTag(tag)} at offset ${at}`);
    if (idx < orderIdx || payloads.has(tag as SectionTag)) {
      throw corrupt(`section ${tag} at offset ${at} is out of order or repeated`);
    }
    for (let k = orderIdx; k < idx; k++) {
      const skipped = SECTION_ORDER[k]!;
      if (!OPTIONAL_SECTIONS.has(skipped)) throw corrupt(`section ${skipped} is missing (found ${tag} at offset ${at})`);
    }
    orderIdx = idx + 1;
    const flags = view.getUint32(at + 4, true);
    if (flags !== 0) throw corrupt(`section ${tag} has unknown flags 0x${flags.toString(16)}`);
    const len = view.getBigUint64(at + 8, true);
    const start = at + SECTION_HEADER_BYTES;
    if (len > BigInt(fileBytes - start)) {
      throw corrupt(`section ${tag} at offset ${at} declares ${len} payload bytes, past the end of the file (${fileBytes} bytes)`);
    }
    const end = start + Number(len);
    sections.push({ tag: tag as SectionTag, offset: at, length: end - start });
    payloads.set(tag as SectionTag, { start, end });
    at = end;
    if (tag === 'END ') {
      if (at !== fileBytes) throw corrupt(`END section at offset ${end - 8 - SECTION_HEADER_BYTES} is not at the end of the file`);
      break;
    }
  }

  const reader = (tag: SectionTag): Reader => {
    const p = payloads.get(tag)!;
    return new Reader(bytes, p.start, p.end, tag);
  };

  // META
  const metaRange = payloads.get('META')!;
  let metaJson: unknown;
  try {
    metaJson = JSON.parse(utf8Decoder.decode(bytes.subarray(metaRange.start, metaRange.end)));
  } catch (e) {
    throw corrupt(`META section is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const meta = checkMeta(metaJson);

  // MODL
  let moduleBytes: Uint8Array | undefined;
  const modl = payloads.get('MODL');
  if (meta.module.embedded !== (modl !== undefined)) {
    throw corrupt(`META says the module is ${meta.module.embedded ? '' : 'not '}embedded, but MODL is ${modl ? 'present' : 'absent'}`);
  }
  if (modl) {
    moduleBytes = bytes.subarray(modl.start, modl.end);
    if (moduleBytes.byteLength !== meta.module.bytes) {
      throw corrupt(`MODL is ${moduleBytes.byteLength} bytes, META says ${meta.module.bytes}`);
    }
  } else if (meta.module.bytes !== null) {
    throw corrupt('META gives a module size but no module is embedded');
  }

  // GLOB
  const globals: GlobalValue[] = [];
  {
    const r = reader('GLOB');
    const count = r.u32('global count');
    if (count !== meta.globals) throw corrupt(`GLOB holds ${count} globals, META says ${meta.globals}`);
    for (let i = 0; i < count; i++) {
      const name = r.utf8(r.u16(`global ${i} name length`), `global ${i} name`);
      const code = r.u8(`global ${name} type`);
      const type = GLOBAL_TYPE_BY_CODE.get(code);
      if (!type) throw corrupt(`section GLOB: global ${name} has unknown type 0x${code.toString(16)}`);
      const v = r.dataView8(`global ${name} value`);
      let value: number | bigint;
      if (type === 'i64') value = v.getBigInt64(0, true);
      else if (type === 'f64') value = v.getFloat64(0, true);
      else {
        if (v.getUint32(4, true) !== 0) throw corrupt(`section GLOB: global ${name} (${type}) has non-zero padding`);
        value = type === 'i32' ? v.getInt32(0, true) : v.getFloat32(0, true);
      }
      globals.push({ name, type, value });
    }
    r.expectEnd();
  }

  // STAK
  let stack: Snapshot['stack'];
  {
    const r = reader('STAK');
    const pendingImport = r.utf8(r.u32('pending import name length'), 'pending import name');
    const n = r.u64('stack data length');
    const data = r.bytesView(n, 'stack data');
    r.expectEnd();
    if (n !== meta.stackBytes) throw corrupt(`STAK holds ${n} stack bytes, META says ${meta.stackBytes}`);
    stack = { data, pendingImport };
  }

  // HOST
  let host: unknown;
  {
    const p = payloads.get('HOST')!;
    try {
      host = JSON.parse(utf8Decoder.decode(bytes.subarray(p.start, p.end)));
    } catch (e) {
      throw corrupt(`HOST section is not valid UTF-8 JSON: ${(e as Error).message}`);
    }
  }

  // FILE
  const files: Uint8Array[] = [];
  {
    const r = reader('FILE');
    const count = r.u32('file count');
    if (count !== meta.files) throw corrupt(`FILE holds ${count} files, META says ${meta.files}`);
    for (let i = 0; i < count; i++) files.push(r.bytesView(r.u64(`file ${i} length`), `file ${i} data`));
    r.expectEnd();
  }

  // MEMT + MEMD
  const pages: MemoryPage[] = [];
  let pageCount: number;
  {
    const r = reader('MEMT');
    pageCount = r.u32('page count');
    const presentCount = r.u32('present page count');
    if (pageCount > MAX_PAGES) throw corrupt(`MEMT page count ${pageCount} exceeds ${MAX_PAGES}`);
    if (presentCount > pageCount) throw corrupt(`MEMT lists ${presentCount} present pages of ${pageCount}`);
    if (pageCount !== meta.memory.pageCount || presentCount !== meta.memory.presentPages) {
      throw corrupt(
        `MEMT says ${presentCount}/${pageCount} pages, META says ${meta.memory.presentPages}/${meta.memory.pageCount}`,
      );
    }
    const d = payloads.get('MEMD')!;
    const expectData = presentCount * WASM_PAGE_SIZE;
    if (d.end - d.start !== expectData) {
      throw corrupt(`MEMD is ${d.end - d.start} bytes, expected ${expectData} for ${presentCount} present pages`);
    }
    let prev = -1;
    for (let i = 0; i < presentCount; i++) {
      const index = r.u32(`page entry ${i} index`);
      const hash = r.u64big(`page entry ${i} hash`);
      if (index >= pageCount) throw corrupt(`MEMT entry ${i}: page ${index} is out of range (${pageCount} pages)`);
      if (index <= prev) throw corrupt(`MEMT entry ${i}: page ${index} is not after page ${prev}`);
      prev = index;
      const at = d.start + i * WASM_PAGE_SIZE;
      const data = bytes.subarray(at, at + WASM_PAGE_SIZE);
      const actual = verify ? hash64(data) : hash;
      if (actual !== hash) {
        throw corrupt(`page ${index} hash mismatch (table ${hex64(hash)}, data ${hex64(actual)})`);
      }
      pages.push({ index, data, hash });
    }
    r.expectEnd();
  }

  const module: Snapshot['module'] = { digest: meta.module.digest, name: meta.module.name };
  if (moduleBytes) module.bytes = moduleBytes;
  return {
    snapshot: {
      module,
      memory: { pageCount, pages },
      globals,
      stack,
      host,
      files,
      meta: meta.meta,
    },
    sections,
    formatVersion: version,
    fileBytes,
  };
}

function checkMeta(j: unknown): MetaSection {
  const bad = (what: string): never => {
    throw corrupt(`META section: ${what}`);
  };
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!isObj(j)) return bad('not a JSON object');
  const m = j.module;
  if (!isObj(m) || typeof m.digest !== 'string' || typeof m.name !== 'string' || typeof m.embedded !== 'boolean') {
    return bad('module must have string digest, string name, boolean embedded');
  }
  if (m.bytes !== null && !isCount(m.bytes)) return bad('module.bytes must be a count or null');
  const mem = j.memory;
  if (!isObj(mem) || !isCount(mem.pageCount) || !isCount(mem.presentPages)) {
    return bad('memory must have pageCount and presentPages counts');
  }
  if (!isCount(j.globals) || !isCount(j.stackBytes) || !isCount(j.files)) {
    return bad('globals, stackBytes and files must be counts');
  }
  if (!isObj(j.meta)) return bad('meta must be an object');
  for (const [k, v] of Object.entries(j.meta)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      return bad(`meta.${k} must be a string, number or boolean`);
    }
  }
  return j as unknown as MetaSection;
}

/**
 * Decode and fully validate a snapshot. Throws WmigError CORRUPT_SNAPSHOT (bad magic, damaged
 * header, truncated, checksum or page hash mismatch, malformed section) or UNSUPPORTED_VERSION.
 * The returned page data, stack data, file blobs and module bytes are views into `bytes`.
 * `{ verify: false }` skips only the checksum and page-hash computations (see DecodeOptions).
 */
export function decodeSnapshot(bytes: Uint8Array, options?: DecodeOptions): Snapshot {
  return decodeInternal(bytes, options).snapshot;
}

/** Present pages' hashes by page index; absent pages are all zero (hash ZERO_PAGE_HASH). */
export function pageTable(snapshot: Snapshot): Map<number, bigint> {
  return new Map(snapshot.memory.pages.map((p) => [p.index, p.hash]));
}

// ---------------------------------------------------------------------------------------------
// Inspection

export interface SnapshotDescription {
  formatVersion: number;
  fileBytes: number;
  module: { digest: string; name: string; embedded: boolean; bytes: number | null };
  pages: { total: number; present: number; elided: number };
  memoryBytes: number;
  stackBytes: number;
  pendingImport: string;
  globals: { name: string; type: GlobalType; value: string }[];
  host: unknown;
  files: { index: number; bytes: number }[];
  sections: SectionInfo[];
  meta: Record<string, string | number | boolean>;
}

/** A global's value as text; NaNs show their bits in WebAssembly text style ("nan:0x..."). */
export function formatGlobalValue(type: GlobalType, value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) {
    const v = new DataView(new ArrayBuffer(8));
    let sign: boolean;
    let payload: bigint;
    if (type === 'f32') {
      v.setFloat32(0, value, true);
      const bits = v.getUint32(0, true);
      sign = bits >>> 31 === 1;
      payload = BigInt(bits & 0x7fffff);
    } else {
      v.setFloat64(0, value, true);
      const bits = v.getBigUint64(0, true);
      sign = bits >> 63n === 1n;
      payload = bits & ((1n << 52n) - 1n);
    }
    return `${sign ? '-' : ''}nan:0x${payload.toString(16)}`;
  }
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/** Everything `wmig inspect` shows. Decodes (and so validates) the whole snapshot. */
export function describeSnapshot(bytes: Uint8Array): SnapshotDescription {
  const d = decodeInternal(bytes);
  const s = d.snapshot;
  return {
    formatVersion: d.formatVersion,
    fileBytes: d.fileBytes,
    module: {
      digest: s.module.digest,
      name: s.module.name,
      embedded: s.module.bytes !== undefined,
      bytes: s.module.bytes?.byteLength ?? null,
    },
    pages: {
      total: s.memory.pageCount,
      present: s.memory.pages.length,
      elided: s.memory.pageCount - s.memory.pages.length,
    },
    memoryBytes: s.memory.pageCount * WASM_PAGE_SIZE,
    stackBytes: s.stack.data.byteLength,
    pendingImport: s.stack.pendingImport,
    globals: s.globals.map((g) => ({ name: g.name, type: g.type, value: formatGlobalValue(g.type, g.value) })),
    host: s.host,
    files: s.files.map((f, index) => ({ index, bytes: f.byteLength })),
    sections: d.sections,
    meta: s.meta,
  };
}
