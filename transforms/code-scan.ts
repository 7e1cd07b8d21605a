// A one-pass reader of the module's code: who calls whom (directly, and indirectly by
// signature), which functions may sit in a table, and where the loops are. It decodes every
// instruction's immediates but builds no IR, so it costs milliseconds where binaryen.js takes
// seconds. Anything it does not understand raises ScanUnsupported; callers then fall back to
// the conservative path (never to a guess).
import { isInvokeImport } from './sjlj.js';

export class ScanUnsupported extends Error {
  constructor(what: string) {
    super(`code scan: ${what}`);
    this.name = 'ScanUnsupported';
  }
}

const SEC_TYPE = 1, SEC_IMPORT = 2, SEC_FUNCTION = 3, SEC_TABLE = 4, SEC_MEMORY = 5, SEC_GLOBAL = 6, SEC_EXPORT = 7, SEC_START = 8, SEC_ELEM = 9, SEC_CODE = 10;

export interface ScannedFunction {
  /** Index in the function index space (imports first). */
  index: number;
  /** Canonical signature key (params→results as bytes), comparable across type indices. */
  sig: string;
  typeIndex: number;
  /** Set for imports. */
  import?: { module: string; base: string };
  /** Direct callees (call, return_call). */
  calls: Set<number>;
  /** Signatures called through call_indirect / call_ref. */
  indirectSigs: Set<string>;
  /** Globals read with global.get. */
  globalsRead: Set<number>;
  /** Byte offset of every global.get instruction (defined functions only). */
  globalGets: number[];
  /** Byte ranges of each memory.size and memory.grow instruction. Defined functions only. */
  memoryOps: { start: number; end: number; grow: boolean }[];
  /** Where control leaves the function or enters another one (unwind-liveness.ts finds returns
   * here): calls (call, call_indirect, call_ref), and exits (return, tail calls, branches to the
   * function's own label, its final end). Defined functions only. */
  handovers: { start: number; end: number; kind: 'call' | 'exit' }[];
  /** Blocks, their elses and ends, and branches, in order (preempt.ts wraps loops in blocks and
   * so must renumber branches; fast-path.ts drops arms of decided ifs). Defined functions only. */
  structure: StructureEvent[];
  /** Parameters, and locals declared in the body (defined functions only). */
  paramCount: number;
  localCount: number;
  /** Byte offset of the locals, just after the body's size prefix. Defined functions only. */
  bodyStart: number;
  /** Byte offset of the first instruction (after the locals). Defined functions only. */
  codeStart: number;
  /** Byte range of the whole body entry (size LEB included). Defined functions only. */
  entryStart: number;
  entryEnd: number;
}

export type StructureEvent =
  /** block, loop or if; `bodyStart` is just after its block type. */
  | { kind: 'open'; op: number; start: number; bodyStart: number; emptyType: boolean }
  | { kind: 'else'; start: number }
  | { kind: 'end'; start: number }
  /** br, br_if, br_table, br_on_null, br_on_non_null: label depths as written, immediates in [immStart, end). */
  | { kind: 'branch'; op: number; start: number; immStart: number; end: number; depths: number[] };

/** A block, loop or if of a body: its opening instruction, the start of its body (after the block
 * type), its `else` (ifs that have one) and its `end`, as byte offsets. */
export interface Construct { op: number; start: number; bodyStart: number; elseAt: number | null; endAt: number }

/** The blocks, loops and ifs of a defined function, by the offset of their opening instruction. */
export function constructs(fn: ScannedFunction): Map<number, Construct> {
  const all = new Map<number, Construct>();
  const open: Construct[] = [];
  for (const e of fn.structure) {
    if (e.kind === 'open') {
      const c: Construct = { op: e.op, start: e.start, bodyStart: e.bodyStart, elseAt: null, endAt: -1 };
      open.push(c);
      all.set(e.start, c);
    } else if (e.kind === 'else') open[open.length - 1]!.elseAt = e.start;
    else if (e.kind === 'end') open.pop()!.endAt = e.start;
  }
  return all;
}

/** Loops in a defined function (each gets a preemption check). */
export function loopCount(fn: ScannedFunction): number {
  return fn.structure.reduce((n, e) => n + (e.kind === 'open' && e.op === 0x03 ? 1 : 0), 0);
}

export interface ScannedModule {
  bytes: Uint8Array;
  functions: ScannedFunction[];
  numImportedFunctions: number;
  numGlobals: number;
  numTypes: number;
  /** Memories the module imports and defines. */
  importedMemories: number;
  definedMemories: number;
  /** Functions that may be reached through a table or a funcref: elem segments, ref.func, and
   * (when a table escapes to the host) every exported function. */
  addressTaken: Set<number>;
  /** Section boundaries, for the rewriters. */
  sections: SectionBounds[];
  /** Byte offset of every function index in the module outside custom sections (call, return_call,
   * ref.func, elem segments, exports, start), ascending: what moves when a function is imported. */
  funcRefSites: number[];
}

/** Where a section lies: its id byte at `start`, its payload in [payloadStart, end). */
export interface SectionBounds {
  id: number;
  start: number;
  payloadStart: number;
  end: number;
}

export function sectionBounds(bytes: Uint8Array): SectionBounds[] {
  const r = new Reader(bytes, 8);
  const out: SectionBounds[] = [];
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start, payloadStart: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

export class Reader {
  constructor(readonly b: Uint8Array, public pos: number) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new ScanUnsupported('unexpected end of data');
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0, shift = 0, byte: number;
    do {
      byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  }
  /** Skips a signed LEB (s32, s33, s64). */
  sleb(): void {
    while (this.byte() & 0x80);
  }
  skip(n: number): void {
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  valtype(): void {
    const t = this.byte();
    // (ref null ht) / (ref ht) carry a heap type.
    if (t === 0x63 || t === 0x64) this.sleb();
  }
  blocktype(): void {
    const t = this.b[this.pos]!;
    if (t === 0x40 || (t >= 0x6f && t <= 0x7f) || t === 0x70) {
      this.pos++;
    } else if (t === 0x63 || t === 0x64) {
      this.valtype();
    } else {
      this.sleb(); // type index
    }
  }
  memarg(): void {
    const align = this.u32();
    if (align & 0x40) this.u32(); // memory index (multi-memory)
    this.u32();
  }
}

/** Reads an initializer expression up to its `end`, returning ref.func targets in it (and their offsets in `sites`). */
export function constExpr(r: Reader, refs: number[], sites?: number[]): void {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x0b: return;
      case 0x41: case 0x42: r.sleb(); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0x23: r.u32(); break;
      case 0xd0: r.sleb(); break;
      case 0xd2: sites?.push(r.pos); refs.push(r.u32()); break;
      case 0xfd: if (r.u32() !== 12) throw new ScanUnsupported('initializer SIMD opcode'); r.skip(16); break; // v128.const
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended const
      default: throw new ScanUnsupported(`initializer opcode 0x${op.toString(16)}`);
    }
  }
}

export function scanModule(bytes: Uint8Array): ScannedModule {
  const r = new Reader(bytes, 8);
  const sections = sectionBounds(bytes);
  const typeSigs: string[] = [];
  const typeParamCounts: number[] = [];
  const functions: ScannedFunction[] = [];
  const addressTaken = new Set<number>();
  const exportedFunctions: number[] = [];
  let tableEscapes = false;
  let numImportedFunctions = 0;
  let numGlobals = 0;
  let importedMemories = 0;
  let definedMemories = 0;
  const definedTypes: number[] = [];
  const funcRefSites: number[] = [];
  const newFn = (index: number, typeIndex: number): ScannedFunction => ({
    index, sig: typeSigs[typeIndex]!, typeIndex, calls: new Set(), indirectSigs: new Set(), globalsRead: new Set(), globalGets: [], memoryOps: [], handovers: [], structure: [],
    paramCount: 0, localCount: 0, bodyStart: 0, codeStart: 0, entryStart: 0, entryEnd: 0,
  });

  for (const { id, payloadStart, end } of sections) {
    r.pos = payloadStart;
    switch (id) {
      case SEC_TYPE:
        for (let n = r.u32(); n > 0; n--) {
          const form = r.byte();
          if (form !== 0x60) throw new ScanUnsupported(`type form 0x${form.toString(16)} (GC types)`);
          const s = r.pos;
          for (let k = 0; k < 2; k++) {
            const c0 = r.u32();
            if (k === 0) typeParamCounts.push(c0);
            for (let c = c0; c > 0; c--) r.valtype();
          }
          typeSigs.push(Array.from(bytes.subarray(s, r.pos)).join(','));
        }
        break;
      case SEC_IMPORT:
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name();
          const base = r.name();
          const kind = r.byte();
          if (kind === 0) {
            const f = newFn(functions.length, r.u32());
            f.import = { module, base };
            if (isInvokeImport(module, base)) f.indirectSigs.add(invokeTargetSig(f.sig, base));
            functions.push(f);
            numImportedFunctions++;
          } else if (kind === 1) {
            r.valtype(); limits(r);
            tableEscapes = true;
          } else if (kind === 2) {
            limits(r);
            importedMemories++;
          } else if (kind === 3) {
            r.valtype(); r.byte(); numGlobals++;
          } else if (kind === 4) {
            r.byte(); r.u32();
          } else {
            throw new ScanUnsupported(`import kind ${kind}`);
          }
        }
        break;
      case SEC_FUNCTION:
        for (let n = r.u32(); n > 0; n--) definedTypes.push(r.u32());
        for (const t of definedTypes) {
          const f = newFn(functions.length, t);
          f.paramCount = typeParamCounts[t]!;
          functions.push(f);
        }
        break;
      case SEC_TABLE:
        for (let n = r.u32(); n > 0; n--) {
          const withInit = bytes[r.pos] === 0x40;
          if (withInit) r.skip(2); // 0x40 0x00
          r.valtype(); limits(r);
          if (withInit) {
            const refs: number[] = [];
            constExpr(r, refs, funcRefSites);
            for (const f of refs) addressTaken.add(f);
          }
        }
        break;
      case SEC_MEMORY:
        definedMemories = r.u32();
        break;
      case SEC_GLOBAL: {
        const refs: number[] = [];
        for (let n = r.u32(); n > 0; n--) { r.valtype(); r.byte(); constExpr(r, refs, funcRefSites); numGlobals++; }
        for (const f of refs) addressTaken.add(f);
        break;
      }
      case SEC_EXPORT:
        for (let n = r.u32(); n > 0; n--) {
          r.name();
          const kind = r.byte();
          if (kind === 0) funcRefSites.push(r.pos);
          const index = r.u32();
          if (kind === 0) exportedFunctions.push(index);
          if (kind === 1) tableEscapes = true;
        }
        break;
      case SEC_START:
        funcRefSites.push(r.pos);
        r.u32();
        break;
      case SEC_ELEM:
        for (let n = r.u32(); n > 0; n--) {
          const flags = r.u32();
          const refs: number[] = [];
          if (flags & 1 ? false : true) {
            if (flags & 2) r.u32(); // table index
            constExpr(r, []); // offset
          }
          if (flags & 4) {
            if (flags & 3) r.valtype();
            for (let c = r.u32(); c > 0; c--) constExpr(r, refs, funcRefSites);
          } else {
            if (flags & 3) r.byte(); // elemkind
            for (let c = r.u32(); c > 0; c--) { funcRefSites.push(r.pos); refs.push(r.u32()); }
          }
          for (const f of refs) addressTaken.add(f);
        }
        break;
      case SEC_CODE: {
        const count = r.u32();
        if (count !== definedTypes.length) throw new ScanUnsupported('function and code section counts differ');
        for (let i = 0; i < count; i++) {
          const fn = functions[numImportedFunctions + i]!;
          fn.entryStart = r.pos;
          const bodySize = r.u32();
          fn.bodyStart = r.pos;
          const bodyEnd = r.pos + bodySize;
          fn.entryEnd = bodyEnd;
          for (let groups = r.u32(); groups > 0; groups--) { fn.localCount += r.u32(); r.valtype(); }
          fn.codeStart = r.pos;
          scanBody(r, bodyEnd, fn, typeSigs, addressTaken, funcRefSites);
          if (r.pos !== bodyEnd) throw new ScanUnsupported(`function ${fn.index}: body size mismatch`);
        }
        break;
      }
      default:
        break;
    }
    r.pos = end;
  }
  if (tableEscapes) for (const f of exportedFunctions) addressTaken.add(f);
  return { bytes, functions, numImportedFunctions, numGlobals, numTypes: typeSigs.length, importedMemories, definedMemories, addressTaken, sections, funcRefSites };
}

/** The signature an invoke import calls through the table: its own without the leading i32 index. */
function invokeTargetSig(sig: string, base: string): string {
  const bytes = sig.split(',').map(Number);
  const params = bytes[0]!;
  if (params === 0 || params >= 0x80 || bytes[1] !== 0x7f) throw new ScanUnsupported(`import env.${base} does not take an i32 table index first`);
  return [params - 1, ...bytes.slice(2)].join(',');
}

export function limits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

/** A local.get (0x20), local.set (0x21) or local.tee (0x22) in a body. */
export interface LocalAccess { at: number; op: number; index: number }

/** The local accesses of a defined function, in order (a second decode of its body: the scan does
 * not keep them, as they would cost memory on every function of a large module). */
export function localAccesses(bytes: Uint8Array, fn: ScannedFunction): LocalAccess[] {
  const scratch: ScannedFunction = {
    ...fn, calls: new Set(), indirectSigs: new Set(), globalsRead: new Set(), globalGets: [], memoryOps: [], handovers: [], structure: [],
  };
  const accesses: LocalAccess[] = [];
  scanBody(new Reader(bytes, fn.codeStart), fn.entryEnd, scratch, [], new Set(), [], accesses);
  return accesses;
}

function scanBody(r: Reader, end: number, fn: ScannedFunction, typeSigs: string[], addressTaken: Set<number>, funcRefSites: number[], locals?: LocalAccess[]): void {
  // Open blocks; a branch to label `depth` targets the function itself, i.e. leaves it.
  let depth = 0;
  const handover = (at: number, kind: 'call' | 'exit') => fn.handovers.push({ start: at, end: r.pos, kind });
  while (r.pos < end) {
    const at = r.pos;
    const op = r.byte();
    if (op === 0x0b) {
      if (depth === 0) handover(at, 'exit');
      else fn.structure.push({ kind: 'end', start: at });
      depth--;
      continue;
    }
    if (op === 0x0f) { handover(at, 'exit'); continue; }
    if (op === 0x05) { fn.structure.push({ kind: 'else', start: at }); continue; }
    if (op <= 0x01 || op === 0x1a || op === 0x1b || op === 0xd1 || op === 0xd3 || op === 0xd4) continue;
    if (op >= 0x45 && op <= 0xc4) continue; // numeric, no immediates
    switch (op) {
      case 0x02: case 0x03: case 0x04: {
        const emptyType = r.b[r.pos] === 0x40;
        r.blocktype();
        depth++;
        fn.structure.push({ kind: 'open', op, start: at, bodyStart: r.pos, emptyType });
        break;
      }
      case 0x0c: case 0x0d: case 0x0e: case 0xd5: case 0xd6: {
        const immStart = r.pos;
        const depths: number[] = [];
        for (let n = op === 0x0e ? r.u32() + 1 : 1; n > 0; n--) depths.push(r.u32());
        fn.structure.push({ kind: 'branch', op, start: at, immStart, end: r.pos, depths });
        if (depths.includes(depth)) handover(at, 'exit');
        break;
      }
      case 0x10: funcRefSites.push(r.pos); fn.calls.add(r.u32()); handover(at, 'call'); break;
      case 0x12: funcRefSites.push(r.pos); fn.calls.add(r.u32()); handover(at, 'exit'); break;
      case 0x11: fn.indirectSigs.add(typeSigs[r.u32()]!); r.u32(); handover(at, 'call'); break;
      case 0x13: fn.indirectSigs.add(typeSigs[r.u32()]!); r.u32(); handover(at, 'exit'); break;
      case 0x14: fn.indirectSigs.add(typeSigs[r.u32()]!); handover(at, 'call'); break;
      case 0x15: fn.indirectSigs.add(typeSigs[r.u32()]!); handover(at, 'exit'); break;
      case 0x1c: for (let n = r.u32(); n > 0; n--) r.valtype(); break;
      case 0x23: fn.globalGets.push(at); fn.globalsRead.add(r.u32()); break;
      case 0x20: case 0x21: case 0x22: {
        const index = r.u32();
        locals?.push({ at, op, index });
        break;
      }
      case 0x24: case 0x25: case 0x26: r.u32(); break;
      case 0x3f: case 0x40: r.u32(); fn.memoryOps.push({ start: at, end: r.pos, grow: op === 0x40 }); break;
      case 0x41: case 0x42: r.sleb(); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0xd0: r.sleb(); break;
      case 0xd2: funcRefSites.push(r.pos); addressTaken.add(r.u32()); break;
      case 0xfc: prefixFC(r); break;
      case 0xfd: prefixFD(r); break;
      case 0xfe: {
        const sub = r.u32();
        if (sub === 0x03) r.byte(); else r.memarg();
        break;
      }
      default:
        if (op >= 0x28 && op <= 0x3e) { r.memarg(); break; }
        // Exception handling (0x06-0x0a, 0x18, 0x19, 0x1f) and GC (0xfb): Asyncify cannot take
        // the former, and we do not model the latter.
        throw new ScanUnsupported(`function ${fn.index}: opcode 0x${op.toString(16)}`);
    }
  }
}

function prefixFC(r: Reader): void {
  const sub = r.u32();
  if (sub <= 7) return;
  switch (sub) {
    case 8: r.u32(); r.u32(); return; // memory.init data mem
    case 9: r.u32(); return;
    case 10: r.u32(); r.u32(); return;
    case 11: r.u32(); return;
    case 12: r.u32(); r.u32(); return; // table.init elem table
    case 13: r.u32(); return;
    case 14: r.u32(); r.u32(); return;
    case 15: case 16: case 17: r.u32(); return;
    default: throw new ScanUnsupported(`opcode 0xfc ${sub}`);
  }
}

function prefixFD(r: Reader): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) { r.memarg(); return; }
  if (sub === 12 || sub === 13) { r.skip(16); return; }
  if (sub >= 21 && sub <= 34) { r.byte(); return; }
  if (sub >= 84 && sub <= 91) { r.memarg(); r.byte(); return; }
}

/**
 * The functions (defined and imported) from which some root can be reached: direct calls, and
 * indirect calls to every address-taken function of exactly the called signature.
 */
export function canReach(m: ScannedModule, roots: Set<number>): Set<number> {
  const callers = new Map<number, number[]>();
  // Reverse edges: indirect ones go callee -> caller through the signature.
  const indirectCallers = new Map<string, number[]>();
  for (const fn of m.functions) {
    for (const c of fn.calls) {
      const list = callers.get(c) ?? [];
      list.push(fn.index);
      callers.set(c, list);
    }
    for (const s of fn.indirectSigs) {
      const list = indirectCallers.get(s) ?? [];
      list.push(fn.index);
      indirectCallers.set(s, list);
    }
  }
  const reached = new Set<number>(roots);
  const work = [...roots];
  const sigDone = new Set<string>();
  while (work.length > 0) {
    const f = work.pop()!;
    const visit = (g: number) => {
      if (!reached.has(g)) { reached.add(g); work.push(g); }
    };
    for (const g of callers.get(f) ?? []) visit(g);
    const fn = m.functions[f]!;
    if (m.addressTaken.has(f) && !sigDone.has(fn.sig)) {
      sigDone.add(fn.sig);
      for (const g of indirectCallers.get(fn.sig) ?? []) visit(g);
    }
  }
  return reached;
}

/** Defined functions that lie on a call cycle (direct or indirect): recursion without loops. */
export function recursiveFunctions(m: ScannedModule): Set<number> {
  const bySig = new Map<string, number[]>();
  for (const f of m.addressTaken) {
    const fn = m.functions[f];
    if (!fn || fn.import) continue;
    const list = bySig.get(fn.sig) ?? [];
    list.push(f);
    bySig.set(fn.sig, list);
  }
  const succ = (fn: ScannedFunction): number[] => {
    const out: number[] = [];
    for (const c of fn.calls) {
      const callee = m.functions[c]!;
      // An import calls nothing of the module, but for an invoke, which calls into the table.
      if (!callee.import) out.push(c);
      else for (const s of callee.indirectSigs) out.push(...(bySig.get(s) ?? []));
    }
    for (const s of fn.indirectSigs) out.push(...(bySig.get(s) ?? []));
    return out;
  };
  // Iterative Tarjan.
  const index = new Map<number, number>(), low = new Map<number, number>();
  const onStack = new Set<number>(), stack: number[] = [];
  const result = new Set<number>();
  let counter = 0;
  for (const root of m.functions) {
    if (root.import || index.has(root.index)) continue;
    const frames: { v: number; next: number[]; i: number }[] = [];
    const push = (v: number) => {
      index.set(v, counter); low.set(v, counter); counter++;
      stack.push(v); onStack.add(v);
      frames.push({ v, next: succ(m.functions[v]!), i: 0 });
    };
    push(root.index);
    while (frames.length > 0) {
      const top = frames[frames.length - 1]!;
      if (top.i < top.next.length) {
        const w = top.next[top.i++]!;
        if (!index.has(w)) push(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1]!;
        low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const scc: number[] = [];
        let w: number;
        do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== top.v);
        const selfLoop = scc.length === 1 && top.next.includes(top.v);
        if (scc.length > 1 || selfLoop) for (const x of scc) result.add(x);
      }
    }
  }
  return result;
}
