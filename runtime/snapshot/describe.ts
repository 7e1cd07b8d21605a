/** What `wmig inspect` shows about a snapshot file. */
import { decodeInternal, type SectionInfo } from './decode.js';
import { WASM_PAGE_SIZE, type GlobalType } from './types.js';

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
