/**
 * Snapshot format decoder (v1, v2 and v3) with full validation, no I/O. Decoded snapshots alias the bytes
 * they were decoded from (pages, stack data, file blobs, module bytes are views, not copies).
 */
import { hash64 } from './hash.js';
import { readHeader } from './header.js';
import {
  GLOBAL_TYPE_BY_CODE,
  HEADER_BYTES,
  JUMP_SECTION_VERSION,
  MAX_PAGES,
  OPTIONAL_SECTIONS,
  SECTION_HEADER_BYTES,
  SECTION_ORDER,
  type MetaSection,
  type SectionTag,
} from './layout.js';
import { WmigError } from '../errors.js';
import { Reader, corrupt, utf8Decoder } from './reader.js';
import { WASM_PAGE_SIZE, type GlobalValue, type MemoryPage, type Snapshot } from './types.js';

function tagAt(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}
function printableTag(tag: string): string {
  return /^[\x20-\x7e]{4}$/.test(tag) ? JSON.stringify(tag) : `0x${[...tag].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')}`;
}
function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

export interface SectionInfo {
  tag: SectionTag;
  /** Offset of the section header in the file; the payload starts SECTION_HEADER_BYTES later. */
  offset: number;
  /** Payload length in bytes. */
  length: number;
}

/** A decoded snapshot plus the file-level facts `describeSnapshot` reports. */
interface Decoded {
  snapshot: Snapshot;
  sections: SectionInfo[];
  formatVersion: number;
  fileBytes: number;
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

export function decodeInternal(input: Uint8Array, options: DecodeOptions = {}): Decoded {
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

  if ((version === JUMP_SECTION_VERSION) !== payloads.has('JUMP')) {
    throw corrupt(version === JUMP_SECTION_VERSION ? 'section JUMP is missing' : `section JUMP in a format v${version} file`);
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
    if (payloads.has('JUMP')) checkNoJumps(reader('JUMP'));
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

/**
 * v2's JUMP: stacks recorded by the setjmp of the wmig that wrote v2, which unwound the whole
 * stack at each setjmp. Their modules import wmig.setjmp, which this wmig does not provide, so
 * only a snapshot without any can be resumed.
 */
function checkNoJumps(r: Reader): void {
  r.u32('next jump token');
  const count = r.u32('jump target count');
  if (count > 0) {
    throw new WmigError('UNSUPPORTED_VERSION', `snapshot holds ${count} setjmp stack(s) of format v2's setjmp/longjmp, which this wmig cannot resume (rebuild the program with the current examples/include/setjmp.h and run it again)`);
  }
  r.expectEnd();
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
