/** Snapshot format encoder (writes the newest version, FORMAT_VERSION): a SnapshotInput to the chunks of a snapshot file, no I/O. */
import { WmigError } from '../errors.js';
import { hash64, hashParts, isZeroPage } from './hash.js';
import { writeHeader } from './header.js';
import {
  FORMAT_VERSION,
  GLOBAL_TYPE_CODE,
  HEADER_BYTES,
  MAX_PAGES,
  MEMT_ENTRY_BYTES,
  SECTION_HEADER_BYTES,
  type MetaSection,
  type SectionTag,
} from './layout.js';
import { WASM_PAGE_SIZE, type GlobalValue, type SnapshotInput } from './types.js';
import { Writer } from './writer.js';

const utf8Encoder = new TextEncoder();

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
function internal(message: string): WmigError {
  return new WmigError('INTERNAL', `cannot encode snapshot: ${message}`);
}

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
