// Preemption points: a fuel check at every loop header (and at the entry of functions on a call
// cycle, so recursion without loops is bounded too). The common case is a global load, a branch,
// and a decrement; when the fuel runs out the check calls an out-of-line stub, which calls the
// import `wmig.preempt` (a freeze point) and stores the fuel it returns.
//
// Everything is spliced into the binary here, so either Asyncify backend takes the result as is.
// A type, a global and the stub are appended; the import goes after the existing function
// imports, so every defined function's index moves up by one: each function index in the module
// (calls, ref.func, elem segments, exports, start, the name section) is re-encoded.
import { ByteWriter, sleb, uleb } from './byte-writer.js';
import { recursiveFunctions, Reader, ScanUnsupported, type ScannedModule } from './code-scan.js';

export const PREEMPT_IMPORT = { module: 'wmig', base: 'preempt' } as const;
/** Loop iterations between two calls of the import; the host's return value re-arms it. */
export const INITIAL_FUEL = 10_000;

export interface PreemptRewrite {
  bytes: Uint8Array;
  /** Function index of the wmig.preempt import. */
  importIndex: number;
  /** Function index of the stub that calls it. */
  stubIndex: number;
  /** Global index of the fuel counter. */
  fuelGlobal: number;
  /** How many checks were inserted. */
  loopChecks: number;
  entryChecks: number;
}

const SEC_CUSTOM = 0, SEC_TYPE = 1, SEC_IMPORT = 2, SEC_FUNCTION = 3, SEC_GLOBAL = 6, SEC_CODE = 10;
/** Known sections that come after the import section, and after the global section, in binary order. */
const AFTER_IMPORT = new Set([3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]);
const AFTER_GLOBAL = new Set([7, 8, 9, 12, 10, 11]);

export function insertPreemptChecks(m: ScannedModule): PreemptRewrite {
  const src = m.bytes;
  const importIndex = m.numImportedFunctions;
  const shift = (f: number) => (f >= importIndex ? f + 1 : f);
  const stubType = m.numTypes;
  const importType = m.numTypes + 1;
  const fuelGlobal = m.numGlobals;
  const stubIndex = m.functions.length + 1;
  const recursive = recursiveFunctions(m);
  const fuel = uleb(fuelGlobal);
  // if (fuel) fuel -= 1 else stub()
  const check = [0x23, ...fuel, 0x04, 0x40, 0x23, ...fuel, 0x41, 0x01, 0x6b, 0x24, ...fuel, 0x05, 0x10, ...uleb(stubIndex), 0x0b];
  // The stub: no locals; fuel = wmig.preempt()
  const stubBody = [0x00, 0x10, ...uleb(importIndex), 0x24, ...fuel, 0x0b];
  const importEntry = new ByteWriter().name(PREEMPT_IMPORT.module).name(PREEMPT_IMPORT.base).byte(0).u32(importType).view();

  const has = (id: number) => m.sections.some((s) => s.id === id);
  if (!has(SEC_TYPE) || !has(SEC_FUNCTION) || !has(SEC_CODE)) throw new ScanUnsupported('module without type, function or code section');

  // Copies src[from, to) re-encoding the function indices at m.funcRefSites. Sections and bodies are
  // copied in order, so one forward cursor over the (ascending) sites serves the whole module.
  let site = 0;
  const copy = (w: ByteWriter, from: number, to: number) => {
    const sites = m.funcRefSites;
    for (; site < sites.length && sites[site]! < to; site++) {
      const at = sites[site]!;
      if (at < from) throw new Error('preempt: function index sites out of order');
      w.bytes(src.subarray(from, at));
      const r = new Reader(src, at);
      w.u32(shift(r.u32()));
      from = r.pos;
    }
    w.bytes(src.subarray(from, to));
  };
  /** A vector section's payload with `extra` more entries appended. */
  const vector = (s: ScannedModule['sections'][number], extraCount: number, extra: ArrayLike<number>): Uint8Array => {
    const r = new Reader(src, s.payloadStart);
    const w = new ByteWriter().u32(r.u32() + extraCount);
    copy(w, r.pos, s.end);
    return w.bytes(extra).view();
  };

  const out = new ByteWriter().bytes(src.subarray(0, 8));
  const globalEntry = [0x7f, 0x01, 0x41, ...sleb(INITIAL_FUEL), 0x0b];
  let importWritten = false, globalWritten = false;
  let loopChecks = 0, entryChecks = 0;
  for (const s of m.sections) {
    if (!importWritten && AFTER_IMPORT.has(s.id)) {
      out.section(SEC_IMPORT, new ByteWriter().u32(1).bytes(importEntry).view());
      importWritten = true;
    }
    if (!globalWritten && AFTER_GLOBAL.has(s.id)) {
      out.section(SEC_GLOBAL, Uint8Array.from([0x01, ...globalEntry]));
      globalWritten = true;
    }
    switch (s.id) {
      case SEC_TYPE: out.section(SEC_TYPE, vector(s, 2, [0x60, 0x00, 0x00, 0x60, 0x00, 0x01, 0x7f])); break;
      case SEC_IMPORT: out.section(SEC_IMPORT, vector(s, 1, importEntry)); importWritten = true; break;
      case SEC_FUNCTION: out.section(SEC_FUNCTION, vector(s, 1, uleb(stubType))); break;
      case SEC_GLOBAL: out.section(SEC_GLOBAL, vector(s, 1, globalEntry)); globalWritten = true; break;
      case SEC_CODE: {
        const body = new ByteWriter().u32(m.functions.length - m.numImportedFunctions + 1);
        const entry = new ByteWriter();
        for (const fn of m.functions) {
          if (fn.import) continue;
          const inserts = [...fn.loopBodies];
          if (recursive.has(fn.index)) { inserts.unshift(fn.codeStart); entryChecks++; }
          loopChecks += fn.loopBodies.length;
          // Skip the old size prefix; the body proper starts after it.
          const r = new Reader(src, fn.entryStart);
          r.u32();
          let p = r.pos;
          entry.reset();
          for (const at of inserts) {
            copy(entry, p, at);
            entry.bytes(check);
            p = at;
          }
          copy(entry, p, fn.entryEnd);
          body.u32(entry.length).bytes(entry.view());
        }
        body.u32(stubBody.length).bytes(stubBody);
        out.section(SEC_CODE, body.view());
        break;
      }
      case SEC_CUSTOM: {
        const r = new Reader(src, s.payloadStart);
        if (r.name() === 'name') out.section(SEC_CUSTOM, shiftNames(src, s.payloadStart, s.end, shift));
        else copy(out, s.start, s.end);
        break;
      }
      default: {
        const w = new ByteWriter();
        copy(w, s.payloadStart, s.end);
        out.section(s.id, w.view());
      }
    }
  }
  if (!globalWritten) out.section(SEC_GLOBAL, Uint8Array.from([0x01, ...globalEntry]));
  return { bytes: out.view().slice(), importIndex, stubIndex, fuelGlobal, loopChecks, entryChecks };
}

/** The name section with function indices moved: function names (1), local names (2), label names (3). */
function shiftNames(src: Uint8Array, start: number, end: number, shift: (f: number) => number): Uint8Array {
  const r = new Reader(src, start);
  r.name();
  const w = new ByteWriter().bytes(src.subarray(start, r.pos));
  while (r.pos < end) {
    const id = r.byte();
    const size = r.u32();
    const subEnd = r.pos + size;
    if (id < 1 || id > 3) {
      w.byte(id).u32(size).bytes(src.subarray(r.pos, subEnd));
      r.pos = subEnd;
      continue;
    }
    const sub = new ByteWriter();
    let count = r.u32();
    sub.u32(count);
    for (; count > 0; count--) {
      sub.u32(shift(r.u32()));
      const entryStart = r.pos;
      if (id === 1) {
        r.skip(r.u32());
      } else {
        for (let n = r.u32(); n > 0; n--) { r.u32(); r.skip(r.u32()); }
      }
      sub.bytes(src.subarray(entryStart, r.pos));
    }
    if (r.pos !== subEnd) throw new ScanUnsupported('malformed name section');
    w.byte(id).u32(sub.length).bytes(sub.view());
  }
  return w.view();
}
