// A region at the top of linear memory that the guest cannot see, for Asyncify's data while the
// stack unwinds or rewinds. Without it the host must borrow guest memory, and to give it back
// intact it must first save (or prove zero) all of it — about a MiB per unwind, which dominates
// the cost of a longjmp. Here the memory simply has RESERVED_PAGES more pages than the guest
// knows of: every memory.size becomes a call that subtracts them, and so does every memory.grow.
// The region is always the top RESERVED_PAGES pages: growing appends pages above it, so it moves
// up with the top, and the pages it leaves behind become the guest's new pages, which must read
// as zero, as fresh pages do. The host keeps the region all zero whenever guest code runs.
//
// Everything new is appended (two types, a global, two functions), so no existing index moves.
import { ScanUnsupported, type ScannedModule } from './code-scan.js';
import { appendToModule } from './append.js';
import { ByteWriter, sleb, uleb } from './byte-writer.js';

/** 1 MiB: room for the unwound stack of deep programs many times over. */
export const RESERVED_PAGES = 16;
const MAX_PAGES = 65536;

export interface ReserveRewrite {
  bytes: Uint8Array;
  /** Global index of the counter of reserved pages (the host saves it with the others). */
  reservedGlobal: number;
}

const SEC_MEMORY = 5;

/** Throws ScanUnsupported for memories it cannot reserve in (imported, several, 64-bit, shared). */
export function reserveTopPages(m: ScannedModule): ReserveRewrite {
  if (m.importedMemories !== 0 || m.definedMemories !== 1) {
    throw new ScanUnsupported(`cannot reserve memory: ${m.importedMemories} imported and ${m.definedMemories} defined memories`);
  }
  const src = m.bytes;
  const sizeType = m.numTypes;
  const growType = m.numTypes + 1;
  const reservedGlobal = m.numGlobals;
  const sizeFn = m.functions.length;
  const growFn = sizeFn + 1;
  const g = uleb(reservedGlobal);
  // () -> i32: memory.size - reserved
  const sizeBody = [0x00, 0x3f, 0x00, 0x23, ...g, 0x6b, 0x0b];
  // (i32) -> i32: r = memory.grow(n); r == -1 ? -1 : r - reserved
  const growBody = [0x00, 0x20, 0x00, 0x40, 0x00, 0x22, 0x00, 0x41, 0x7f, 0x46, 0x04, 0x7f, 0x41, 0x7f, 0x05, 0x20, 0x00, 0x23, ...g, 0x6b, 0x0b, 0x0b];
  const globalEntry = [0x7f, 0x01, 0x41, ...sleb(RESERVED_PAGES), 0x0b];

  const bytes = appendToModule(m, {
    types: [[0x60, 0x00, 0x01, 0x7f], [0x60, 0x01, 0x7f, 0x01, 0x7f]],
    globals: [globalEntry],
    functions: [{ type: sizeType, body: sizeBody }, { type: growType, body: growBody }],
    body: (fn) => {
      if (fn.memoryOps.length === 0) return null;
      let p = fn.bodyStart;
      const body = new ByteWriter();
      for (const op of fn.memoryOps) {
        body.bytes(src.subarray(p, op.start)).byte(0x10).u32(op.grow ? growFn : sizeFn);
        p = op.end;
      }
      return body.bytes(src.subarray(p, fn.entryEnd)).view();
    },
    section: (s) => (s.id === SEC_MEMORY ? enlargedMemory(src.subarray(s.payloadStart, s.end)) : null),
  });
  return { bytes, reservedGlobal };
}

/** The memory section with RESERVED_PAGES more initial (and maximum) pages. */
function enlargedMemory(payload: Uint8Array): Uint8Array {
  let p = 0;
  const read = (): number => {
    let v = 0, shift = 0, b: number;
    do { b = payload[p++]!; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return v;
  };
  read(); // count: 1, checked by the caller
  const flags = payload[p++]!;
  if (flags > 1) throw new ScanUnsupported(`cannot reserve memory: limits flags 0x${flags.toString(16)} (shared or 64-bit)`);
  const initial = read();
  const max = flags === 1 ? read() : null;
  if (initial + RESERVED_PAGES > MAX_PAGES) throw new ScanUnsupported('cannot reserve memory: initial memory is already at the limit');
  const out = new ByteWriter().byte(0x01).byte(flags).u32(initial + RESERVED_PAGES);
  if (max !== null) out.u32(Math.min(MAX_PAGES, max + RESERVED_PAGES));
  return out.view();
}
