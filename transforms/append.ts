// The one way the binary rewriters (reserve, preempt, fast paths) change a module: append types,
// globals and functions after the existing ones, so that no index moves, and give some defined
// functions a new body. A section the module lacks is inserted where the binary order wants it.
import { appendToVector, ByteWriter } from './byte-writer.js';
import type { ScannedFunction, ScannedModule, SectionBounds } from './code-scan.js';

export interface ModuleAdditions {
  /** Type section entries (`0x60 params results`), given the indices numTypes, numTypes + 1, … */
  types?: ArrayLike<number>[];
  /** Global section entries (value type, mutability, initializer), given the indices numGlobals, … */
  globals?: ArrayLike<number>[];
  /** Defined functions after the existing ones: a type index and a body (locals and code, no size). */
  functions?: { type: number; body: ArrayLike<number> }[];
  /** A new body (locals and code, no size) for a defined function, or null to keep its own. */
  body?: (fn: ScannedFunction) => ArrayLike<number> | null;
  /** A new payload for some other section, or null to keep it. */
  section?: (s: SectionBounds) => Uint8Array | null;
}

const SEC_CUSTOM = 0, SEC_TYPE = 1, SEC_FUNCTION = 3, SEC_GLOBAL = 6, SEC_CODE = 10;
/** Known sections in binary order (the data count section, 12, sits before code). */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
const rank = (id: number) => ORDER.indexOf(id);

export function appendToModule(m: ScannedModule, add: ModuleAdditions): Uint8Array {
  const src = m.bytes;
  const types = add.types ?? [], globals = add.globals ?? [], functions = add.functions ?? [];
  const appended = new Map<number, { items: number; bytes: Uint8Array }>();
  const join = (entries: ArrayLike<number>[]) => entries.reduce((w, e) => w.bytes(e), new ByteWriter()).view().slice();
  if (types.length > 0) appended.set(SEC_TYPE, { items: types.length, bytes: join(types) });
  if (globals.length > 0) appended.set(SEC_GLOBAL, { items: globals.length, bytes: join(globals) });
  if (functions.length > 0) {
    const indices = new ByteWriter();
    for (const f of functions) indices.u32(f.type);
    appended.set(SEC_FUNCTION, { items: functions.length, bytes: indices.view().slice() });
  }
  const present = new Set(m.sections.map((s) => s.id));

  const out = new ByteWriter().bytes(src.subarray(0, 8));
  // Sections the module lacks but additions need, each written before the first section that follows it.
  const needed = functions.length > 0 ? [...appended.keys(), SEC_CODE] : [...appended.keys()];
  const missing = needed.filter((id) => !present.has(id)).sort((a, b) => rank(a) - rank(b));
  const writeMissingBefore = (id: number | null) => {
    while (missing.length > 0 && (id === null || rank(missing[0]!) < rank(id))) {
      const sid = missing.shift()!;
      const a = appended.get(sid);
      out.section(sid, a ? new ByteWriter().u32(a.items).bytes(a.bytes).view() : code(m, functions, add.body));
    }
  };
  for (const s of m.sections) {
    if (s.id !== SEC_CUSTOM) writeMissingBefore(s.id);
    const a = appended.get(s.id);
    if (a) {
      out.section(s.id, appendToVector(src, s.payloadStart, s.end, a.bytes, a.items));
    } else if (s.id === SEC_CODE) {
      out.section(SEC_CODE, code(m, functions, add.body));
    } else {
      const payload = s.id === SEC_CUSTOM ? null : add.section?.(s) ?? null;
      if (payload) out.section(s.id, payload);
      else out.bytes(src.subarray(s.start, s.end));
    }
  }
  writeMissingBefore(null);
  return out.view().slice();
}

function code(m: ScannedModule, functions: { body: ArrayLike<number> }[], rewrite: ModuleAdditions['body']): Uint8Array {
  const src = m.bytes;
  const w = new ByteWriter().u32(m.functions.length - m.numImportedFunctions + functions.length);
  for (const fn of m.functions) {
    if (fn.import) continue;
    const body = rewrite?.(fn) ?? null;
    if (body) w.u32(body.length).bytes(body);
    else w.bytes(src.subarray(fn.entryStart, fn.entryEnd));
  }
  for (const f of functions) w.u32(f.body.length).bytes(f.body);
  return w.view();
}
