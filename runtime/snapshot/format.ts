/**
 * Snapshot format (v2; v1 is read too): pure encode / decode, no I/O. The byte layout is documented in
 * FORMAT.md next to this file. This module is the public entry point; the implementation is
 * split by job: layout.ts (constants, section tags, META shape), hash.ts (xxh3, zero pages),
 * header.ts (the fixed header), writer.ts / reader.ts (little-endian section I/O), encode.ts,
 * decode.ts and describe.ts.
 *
 *   header (32 bytes, the same in every format version)
 *   META  MODL?  GLOB  STAK  JUMP  HOST  FILE  MEMT  MEMD  END   (v1: no JUMP)
 *
 * Decoded snapshots alias the bytes they were decoded from (pages, stack data, file blobs,
 * module bytes are views, not copies): keep the buffer alive and do not modify it.
 */
export {
  FORMAT_VERSION,
  HEADER_BYTES,
  MAX_PAGES,
  SECTION_HEADER_BYTES,
  SECTION_ORDER,
  SNAPSHOT_MAGIC,
  type SectionTag,
} from './layout.js';
export { ZERO_PAGE_HASH, hash64, isZeroPage } from './hash.js';
export { encodeSnapshot, snapshotBytes } from './encode.js';
export { decodeSnapshot, pageTable, type DecodeOptions, type SectionInfo } from './decode.js';
export { describeSnapshot, formatGlobalValue, type SnapshotDescription } from './describe.js';
