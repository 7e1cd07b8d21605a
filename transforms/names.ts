// The name section, edited on the binary: function indices moved when an import is added
// (module-edit.ts), and names for the rewind copies fast-path.ts appends, so that profiles and
// trap stack traces show `f$rewind` rather than an index.
import { ByteWriter } from './byte-writer.js';
import { Reader, ScanUnsupported, sectionBounds } from './code-scan.js';

const SEC_CUSTOM = 0;
const FUNCTION_NAMES = 1, LOCAL_NAMES = 2, LABEL_NAMES = 3;

/** Whether the custom section whose payload starts at `payloadStart` is the name section. */
export function isNameSection(src: Uint8Array, payloadStart: number): boolean {
  return new Reader(src, payloadStart).name() === 'name';
}

/** The name section payload (from `start`, its name, to `end`) with function indices moved:
 * function names, local names, label names. */
export function shiftNames(src: Uint8Array, start: number, end: number, shift: (f: number) => number): Uint8Array {
  return rewriteByFunction(src, start, end, (entries) => entries.map(([f, bytes]) => [shift(f), bytes]));
}

/**
 * The module with names for appended copies of functions (`copies`: copy index → original index,
 * every copy after every function already named): function names get `suffix`, local names are
 * the original's. Unchanged bytes if the module has no name section.
 */
export function nameCopies(wasm: Uint8Array, copies: Map<number, number>, suffix: string): Uint8Array {
  const section = sectionBounds(wasm).find((s) => s.id === SEC_CUSTOM && isNameSection(wasm, s.payloadStart));
  if (!section) return wasm;
  const payload = rewriteByFunction(wasm, section.payloadStart, section.end, (entries, id) => {
    const byIndex = new Map(entries);
    const added: [number, Uint8Array][] = [];
    for (const [copy, original] of copies) {
      const bytes = byIndex.get(original);
      if (bytes === undefined || id === LABEL_NAMES) continue;
      if (id === LOCAL_NAMES) added.push([copy, bytes]);
      else added.push([copy, new ByteWriter().name(nameOf(bytes) + suffix).view()]);
    }
    return [...entries, ...added.sort((a, b) => a[0] - b[0])];
  });
  const out = new ByteWriter()
    .bytes(wasm.subarray(0, section.start))
    .section(SEC_CUSTOM, payload)
    .bytes(wasm.subarray(section.end));
  return out.view().slice();
}

/** A function-name entry's bytes are the name itself (length-prefixed). */
function nameOf(entry: Uint8Array): string {
  return new Reader(entry, 0).name();
}

type Entries = [number, Uint8Array][];

/**
 * Re-encodes the subsections keyed by function index (1, 2, 3) through `edit`, which gets each
 * one's entries (function index, and the entry's bytes after it) and returns the new ones; other
 * subsections are copied as they are.
 */
function rewriteByFunction(src: Uint8Array, start: number, end: number, edit: (entries: Entries, id: number) => Entries): Uint8Array {
  const r = new Reader(src, start);
  r.name();
  const w = new ByteWriter().bytes(src.subarray(start, r.pos));
  while (r.pos < end) {
    const id = r.byte();
    const size = r.u32();
    const subEnd = r.pos + size;
    if (id !== FUNCTION_NAMES && id !== LOCAL_NAMES && id !== LABEL_NAMES) {
      w.byte(id).u32(size).bytes(src.subarray(r.pos, subEnd));
      r.pos = subEnd;
      continue;
    }
    const entries: Entries = [];
    for (let count = r.u32(); count > 0; count--) {
      const f = r.u32();
      const entryStart = r.pos;
      if (id === FUNCTION_NAMES) {
        r.skip(r.u32());
      } else {
        for (let n = r.u32(); n > 0; n--) { r.u32(); r.skip(r.u32()); }
      }
      entries.push([f, src.subarray(entryStart, r.pos)]);
    }
    if (r.pos !== subEnd) throw new ScanUnsupported('malformed name section');
    const edited = edit(entries, id);
    const sub = new ByteWriter().u32(edited.length);
    for (const [f, bytes] of edited) sub.u32(f).bytes(bytes);
    w.byte(id).u32(sub.length).bytes(sub.view());
  }
  return w.view();
}
