// The light edits instrumentation makes around Asyncify, on the binary itself (no IR, no binaryen):
// reading the imports and globals, exporting globals, appending a custom section.
import { ByteWriter } from './byte-writer.js';
import { constExpr, limits, Reader, ScanUnsupported } from './code-scan.js';
import { TransformError } from './errors.js';

const SEC_CUSTOM = 0, SEC_IMPORT = 2, SEC_GLOBAL = 6, SEC_EXPORT = 7;
/** Known sections that come after the export section, in binary order. */
const AFTER_EXPORT = new Set([8, 9, 12, 10, 11]);

export interface ModuleShape {
  /** Function imports in index order. */
  functionImports: { module: string; base: string }[];
  /** Every global in index order (imports first); `type` is the value type byte. */
  globals: { index: number; type: number; mutable: boolean }[];
}

interface SectionBounds {
  id: number;
  start: number;
  payloadStart: number;
  end: number;
}

function sectionBounds(wasm: Uint8Array): SectionBounds[] {
  const r = new Reader(wasm, 8);
  const out: SectionBounds[] = [];
  while (r.pos < wasm.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start, payloadStart: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

/** Imports and globals. The caller has had the engine validate the module. */
export function readShape(wasm: Uint8Array): ModuleShape {
  const shape: ModuleShape = { functionImports: [], globals: [] };
  try {
    for (const s of sectionBounds(wasm)) {
      const r = new Reader(wasm, s.payloadStart);
      if (s.id === SEC_IMPORT) {
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name();
          const base = r.name();
          const kind = r.byte();
          if (kind === 0) {
            r.u32();
            shape.functionImports.push({ module, base });
          } else if (kind === 1) {
            r.valtype(); limits(r);
          } else if (kind === 2) {
            limits(r);
          } else if (kind === 3) {
            const type = globalType(r);
            shape.globals.push({ index: shape.globals.length, ...type });
          } else if (kind === 4) {
            r.byte(); r.u32();
          } else {
            throw new ScanUnsupported(`import kind ${kind}`);
          }
        }
      } else if (s.id === SEC_GLOBAL) {
        for (let n = r.u32(); n > 0; n--) {
          const type = globalType(r);
          constExpr(r, []);
          shape.globals.push({ index: shape.globals.length, ...type });
        }
      }
    }
  } catch (e) {
    if (e instanceof ScanUnsupported) throw new TransformError('unsupported', `cannot read the module's imports and globals: ${e.message}`);
    throw e;
  }
  return shape;
}

function globalType(r: Reader): { type: number; mutable: boolean } {
  const type = r.b[r.pos]!;
  r.valtype();
  return { type, mutable: r.byte() === 1 };
}

/** Adds global exports (kind 3) to the export section, creating it if the module has none. */
export function exportGlobals(wasm: Uint8Array, exports: { name: string; index: number }[]): Uint8Array {
  if (exports.length === 0) return wasm;
  const entries = new ByteWriter();
  for (const e of exports) entries.name(e.name).byte(3).u32(e.index);
  const out = new ByteWriter().bytes(wasm.subarray(0, 8));
  let written = false;
  for (const s of sectionBounds(wasm)) {
    if (!written && AFTER_EXPORT.has(s.id)) {
      out.section(SEC_EXPORT, new ByteWriter().u32(exports.length).bytes(entries.view()).view());
      written = true;
    }
    if (s.id === SEC_EXPORT) {
      const r = new Reader(wasm, s.payloadStart);
      const count = r.u32();
      out.section(SEC_EXPORT, new ByteWriter().u32(count + exports.length).bytes(wasm.subarray(r.pos, s.end)).bytes(entries.view()).view());
      written = true;
    } else {
      out.bytes(wasm.subarray(s.start, s.end));
    }
  }
  if (!written) out.section(SEC_EXPORT, new ByteWriter().u32(exports.length).bytes(entries.view()).view());
  return out.view().slice();
}

export function appendCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const section = new ByteWriter().section(SEC_CUSTOM, new ByteWriter().name(name).bytes(payload).view()).view();
  const out = new Uint8Array(wasm.length + section.length);
  out.set(wasm);
  out.set(section, wasm.length);
  return out;
}
