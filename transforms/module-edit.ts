// The light edits instrumentation makes around Asyncify, on the binary itself (no IR, no binaryen):
// reading the imports, globals and tables, adding a function import, adding exports, appending a custom section.
import { ByteWriter } from './byte-writer.js';
import { constExpr, limits, Reader, ScanUnsupported, sectionBounds, type ScannedModule, type SectionBounds } from './code-scan.js';
import { TransformError } from './errors.js';
import { isNameSection, shiftNames } from './names.js';

const SEC_CUSTOM = 0, SEC_TYPE = 1, SEC_IMPORT = 2, SEC_TABLE = 4, SEC_GLOBAL = 6, SEC_EXPORT = 7, SEC_CODE = 10;
/** Known sections that come after the import section, in binary order. */
const AFTER_IMPORT = new Set([3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]);
/** Known sections that come after the export section, in binary order. */
const AFTER_EXPORT = new Set([8, 9, 12, 10, 11]);

export interface ModuleShape {
  /** Function imports in index order. */
  functionImports: { module: string; base: string }[];
  /** Every global in index order (imports first); `type` is the value type byte. */
  globals: { index: number; type: number; mutable: boolean }[];
  /** Tables, imported and defined. */
  tableCount: number;
}

/** Imports, globals and tables. The caller has had the engine validate the module. */
export function readShape(wasm: Uint8Array): ModuleShape {
  const shape: ModuleShape = { functionImports: [], globals: [], tableCount: 0 };
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
            shape.tableCount++;
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
      } else if (s.id === SEC_TABLE) {
        shape.tableCount += r.u32();
      } else if (s.id === SEC_GLOBAL) {
        for (let n = r.u32(); n > 0; n--) {
          const type = globalType(r);
          constExpr(r, []);
          shape.globals.push({ index: shape.globals.length, ...type });
        }
      }
    }
  } catch (e) {
    if (e instanceof ScanUnsupported) throw new TransformError('unsupported', `cannot read the module's imports, globals and tables: ${e.message}`);
    throw e;
  }
  return shape;
}

function globalType(r: Reader): { type: number; mutable: boolean } {
  const type = r.b[r.pos]!;
  r.valtype();
  return { type, mutable: r.byte() === 1 };
}

/** Export kinds addExports writes. */
export const EXPORT_TABLE = 1, EXPORT_GLOBAL = 3;

/** Adds exports to the export section, creating it if the module has none. */
export function addExports(wasm: Uint8Array, exports: { name: string; kind: number; index: number }[]): Uint8Array {
  if (exports.length === 0) return wasm;
  const entries = new ByteWriter();
  for (const e of exports) entries.name(e.name).byte(e.kind).u32(e.index);
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

/** The module without its DWARF (`.debug_*` custom sections): instrumentation moves every code
 * offset it refers to. Unchanged bytes if there is none. */
export function withoutDebugSections(wasm: Uint8Array): Uint8Array {
  const isDwarf = (s: SectionBounds) => s.id === SEC_CUSTOM && new Reader(wasm, s.payloadStart).name().startsWith('.debug_');
  const sections = sectionBounds(wasm);
  if (!sections.some(isDwarf)) return wasm;
  const out = new ByteWriter().bytes(wasm.subarray(0, 8));
  for (const s of sections) if (!isDwarf(s)) out.bytes(wasm.subarray(s.start, s.end));
  return out.view().slice();
}

export function appendCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const section = new ByteWriter().section(SEC_CUSTOM, new ByteWriter().name(name).bytes(payload).view()).view();
  const out = new Uint8Array(wasm.length + section.length);
  out.set(wasm);
  out.set(section, wasm.length);
  return out;
}

/**
 * Adds a function import after the existing ones (with a new type), so every defined function's
 * index moves up by one: each function index in the module — calls, ref.func, elem segments,
 * exports, start (the scan's funcRefSites) and the name section — is re-encoded.
 */
export function addFunctionImport(m: ScannedModule, module: string, base: string, params: number[], results: number[]): { bytes: Uint8Array; index: number } {
  const src = m.bytes;
  const index = m.numImportedFunctions;
  const shift = (f: number) => (f >= index ? f + 1 : f);
  const type = new ByteWriter().byte(0x60).u32(params.length).bytes(params).u32(results.length).bytes(results).view();
  const entry = new ByteWriter().name(module).name(base).byte(0).u32(m.numTypes).view();

  // Copies src[from, to) re-encoding the function indices at the sites in it. Sections are copied
  // in order, so one forward cursor over the (ascending) sites serves the whole module.
  let site = 0;
  const copy = (w: ByteWriter, from: number, to: number) => {
    const sites = m.funcRefSites;
    for (; site < sites.length && sites[site]! < to; site++) {
      const at = sites[site]!;
      w.bytes(src.subarray(from, at));
      const r = new Reader(src, at);
      w.u32(shift(r.u32()));
      from = r.pos;
    }
    w.bytes(src.subarray(from, to));
  };
  const vector = (s: SectionBounds, extra: Uint8Array): Uint8Array => {
    const r = new Reader(src, s.payloadStart);
    const w = new ByteWriter().u32(r.u32() + 1);
    copy(w, r.pos, s.end);
    return w.bytes(extra).view();
  };

  const out = new ByteWriter().bytes(src.subarray(0, 8));
  let typeWritten = false, importWritten = false;
  for (const s of m.sections) {
    if (!typeWritten && s.id !== SEC_CUSTOM && s.id > SEC_TYPE) {
      out.section(SEC_TYPE, new ByteWriter().u32(1).bytes(type).view());
      typeWritten = true;
    }
    if (!importWritten && AFTER_IMPORT.has(s.id)) {
      out.section(SEC_IMPORT, new ByteWriter().u32(1).bytes(entry).view());
      importWritten = true;
    }
    if (s.id === SEC_TYPE) {
      out.section(SEC_TYPE, vector(s, type));
      typeWritten = true;
    } else if (s.id === SEC_IMPORT) {
      out.section(SEC_IMPORT, vector(s, entry));
      importWritten = true;
    } else if (s.id === SEC_CODE) {
      // Bodies carry their size, which changes when an index's encoding grows.
      const body = new ByteWriter().u32(m.functions.length - m.numImportedFunctions);
      const entry = new ByteWriter();
      for (const fn of m.functions) {
        if (fn.import) continue;
        const r = new Reader(src, fn.entryStart);
        r.u32();
        entry.reset();
        copy(entry, r.pos, fn.entryEnd);
        body.u32(entry.length).bytes(entry.view());
      }
      out.section(SEC_CODE, body.view());
    } else if (s.id === SEC_CUSTOM) {
      if (isNameSection(src, s.payloadStart)) out.section(SEC_CUSTOM, shiftNames(src, s.payloadStart, s.end, shift));
      else out.bytes(src.subarray(s.start, s.end));
    } else {
      const w = new ByteWriter();
      copy(w, s.payloadStart, s.end);
      out.section(s.id, w.view());
    }
  }
  if (site !== m.funcRefSites.length) throw new Error('addFunctionImport: function index sites outside the sections');
  return { bytes: out.view().slice(), index };
}
