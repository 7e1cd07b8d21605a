/**
 * Snapshot format v3 layout constants: the fixed header, section tags and their order, and the
 * small per-section encodings shared by the encoder and the decoder (see FORMAT.md).
 */
import type { GlobalType } from './types.js';

/** The format version this code writes, and the newest it reads (it reads v1 and v2 too). */
export const FORMAT_VERSION = 3;
/** The only version with a JUMP section (stacks of the setjmp scheme wmig had then). */
export const JUMP_SECTION_VERSION = 2;
/** The first 8 bytes of every snapshot file: ASCII "WMIGSNAP". */
export const SNAPSHOT_MAGIC: Uint8Array = new Uint8Array([0x57, 0x4d, 0x49, 0x47, 0x53, 0x4e, 0x41, 0x50]);
/** Size of the fixed header: magic, version, flags, file length, header hash. */
export const HEADER_BYTES = 32;
/** Size of every section header: tag, flags, payload length. */
export const SECTION_HEADER_BYTES = 16;
/** wasm32 memories have at most 65536 pages (4 GiB). */
export const MAX_PAGES = 65536;

/** Section tags in the order they must appear. MODL is optional; JUMP is v2's. */
export const SECTION_ORDER = ['META', 'MODL', 'GLOB', 'STAK', 'JUMP', 'HOST', 'FILE', 'MEMT', 'MEMD', 'END '] as const;
export type SectionTag = (typeof SECTION_ORDER)[number];
/** Sections the order walk lets be absent; the version check then decides about JUMP. */
export const OPTIONAL_SECTIONS: ReadonlySet<string> = new Set(['MODL', 'JUMP']);

/** Global types are stored as their WebAssembly value-type byte. */
export const GLOBAL_TYPE_CODE: Record<GlobalType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };
export const GLOBAL_TYPE_BY_CODE = new Map<number, GlobalType>(
  (Object.entries(GLOBAL_TYPE_CODE) as [GlobalType, number][]).map(([t, c]) => [c, t]),
);

export const MEMT_ENTRY_BYTES = 12; // u32 index + u64 hash

/** What the META section's JSON holds. */
export interface MetaSection {
  module: { digest: string; name: string; embedded: boolean; bytes: number | null };
  memory: { pageCount: number; presentPages: number };
  globals: number;
  stackBytes: number;
  files: number;
  meta: Record<string, string | number | boolean>;
}
