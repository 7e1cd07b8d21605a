/** The content of a snapshot, independent of how it is encoded (see FORMAT.md). */

export const WASM_PAGE_SIZE = 65536;

export type GlobalType = 'i32' | 'i64' | 'f32' | 'f64';

/** A mutable global of the instrumented module, exported under `name` by the transform. */
export interface GlobalValue {
  name: string;
  type: GlobalType;
  /** i32/f32/f64 as number, i64 as bigint. NaN payloads are kept bit-exact by the encoder. */
  value: number | bigint;
}

/** One present (not all-zero) 64 KiB page. */
export interface MemoryPage {
  index: number;
  /** Exactly WASM_PAGE_SIZE bytes. In a decoded snapshot this is a view into the snapshot bytes. */
  data: Uint8Array;
  /** xxh3-64 of `data`. Filled by the encoder, checked by the decoder. */
  hash: bigint;
}

/** Linear memory as the encoder receives it: the whole memory, not copied. */
export interface MemorySource {
  /** A view of the full linear memory; its length is a multiple of WASM_PAGE_SIZE. */
  bytes: Uint8Array;
}

/** Linear memory as the decoder returns it: all-zero pages are absent. */
export interface MemoryImage {
  pageCount: number;
  pages: MemoryPage[];
}

export interface ModuleRef {
  /** sha256 (hex) of the instrumented module bytes the snapshot was taken from. */
  digest: string;
  /** File name the module was run from (informational, shown by `wmig inspect`). */
  name: string;
  /** The instrumented module itself, when the snapshot carries it (self-contained thaw). */
  bytes?: Uint8Array;
}

/** The unwound call stack: Asyncify's data buffer, and which import the guest was entering. */
export interface StackState {
  /** The Asyncify data bytes from the buffer start up to its `current` pointer (exclusive of the 8-byte header). */
  data: Uint8Array;
  /** `module.name` of the import whose call was interrupted, e.g. "wasi_snapshot_preview1.fd_write". */
  pendingImport: string;
}

/** Everything needed to resume a process. `host` is the WASI host's JSON state; `files` its blobs. */
export interface SnapshotContent<M = MemoryImage> {
  module: ModuleRef;
  memory: M;
  globals: GlobalValue[];
  stack: StackState;
  /** The WASI host's state (args, env, handle table, mounts, clocks): plain JSON. */
  host: unknown;
  /** File contents referenced by index from `host` (in-memory file system, carried mounts). */
  files: Uint8Array[];
  /** Free-form facts for `wmig inspect` (wmig version, time of freeze, freeze reason, call count). */
  meta: Record<string, string | number | boolean>;
}

export type SnapshotInput = SnapshotContent<MemorySource>;
export type Snapshot = SnapshotContent<MemoryImage>;
