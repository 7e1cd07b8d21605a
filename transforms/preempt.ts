// Preemption points: a fuel check at every loop header (and at the entry of functions on a call
// cycle, so recursion without loops is bounded too). The common case is a global load, a branch,
// and a decrement; when the fuel runs out the check calls an out-of-line stub, which calls the
// import `wmig.preempt` (a freeze point) and stores the fuel it returns.
//
// The checks are spliced into the binary before binaryen reads it. Everything new is appended
// (a type, a global, a function), so no existing index moves and the name section stays valid.
import { recursiveFunctions, ScanUnsupported, type ScannedModule } from './code-scan.js';

export const PREEMPT_IMPORT = { module: 'wmig', base: 'preempt' } as const;
/** Loop iterations between two calls of the import; the host's return value re-arms it. */
export const INITIAL_FUEL = 10_000;

export interface PreemptRewrite {
  bytes: Uint8Array;
  /** Function index of the stub (its body is a placeholder; binaryen fills it in). */
  stubIndex: number;
  /** Global index of the fuel counter. */
  fuelGlobal: number;
  /** How many checks were inserted. */
  loopChecks: number;
  entryChecks: number;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const SEC_TYPE = 1, SEC_FUNCTION = 3, SEC_GLOBAL = 6, SEC_CODE = 10;
/** Known sections that come after the global section, in binary order. */
const AFTER_GLOBAL = new Set([7, 8, 9, 12, 10, 11]);

export function insertPreemptChecks(m: ScannedModule): PreemptRewrite {
  const src = m.bytes;
  const stubType = m.numTypes;
  const fuelGlobal = m.numGlobals;
  const stubIndex = m.functions.length;
  const recursive = recursiveFunctions(m);
  const fuel = uleb(fuelGlobal);
  const stub = uleb(stubIndex);
  // if (fuel) fuel -= 1 else stub()
  const check = [0x23, ...fuel, 0x04, 0x40, 0x23, ...fuel, 0x41, 0x01, 0x6b, 0x24, ...fuel, 0x05, 0x10, ...stub, 0x0b];

  const has = (id: number) => m.sections.some((s) => s.id === id);
  if (!has(SEC_TYPE) || !has(SEC_FUNCTION) || !has(SEC_CODE)) throw new ScanUnsupported('module without type, function or code section');

  const out: number[] = [];
  const push = (bytes: ArrayLike<number>) => { for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!); };
  const section = (id: number, payload: number[]) => { out.push(id); push(uleb(payload.length)); push(payload); };
  /** A vector section's payload with its count bumped by one and `extra` appended. */
  const appendToVector = (s: ScannedModule['sections'][number], extra: number[]): number[] => {
    let p = s.payloadStart;
    let count = 0, shift = 0, b: number;
    do { b = src[p++]!; count += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return [...uleb(count + 1), ...src.subarray(p, s.end), ...extra];
  };
  const globalEntry = [0x7f, 0x01, 0x41, ...sleb(INITIAL_FUEL), 0x0b];
  let loopChecks = 0, entryChecks = 0;

  push(src.subarray(0, 8));
  let globalWritten = false;
  for (const s of m.sections) {
    if (!globalWritten && AFTER_GLOBAL.has(s.id)) {
      section(SEC_GLOBAL, [0x01, ...globalEntry]);
      globalWritten = true;
    }
    switch (s.id) {
      case SEC_TYPE: section(SEC_TYPE, appendToVector(s, [0x60, 0x00, 0x00])); break;
      case SEC_FUNCTION: section(SEC_FUNCTION, appendToVector(s, uleb(stubType))); break;
      case SEC_GLOBAL: section(SEC_GLOBAL, appendToVector(s, globalEntry)); globalWritten = true; break;
      case SEC_CODE: {
        const body: number[] = [...uleb(m.functions.length - m.numImportedFunctions + 1)];
        for (const fn of m.functions) {
          if (fn.import) continue;
          const inserts = [...fn.loopBodies];
          if (recursive.has(fn.index)) { inserts.unshift(fn.codeStart); entryChecks++; }
          loopChecks += fn.loopBodies.length;
          // Skip the old size prefix; the body proper starts after it.
          let p = fn.entryStart;
          while (src[p++]! & 0x80);
          const entry: number[] = [];
          for (const at of inserts) {
            for (; p < at; p++) entry.push(src[p]!);
            push2(entry, check);
          }
          for (; p < fn.entryEnd; p++) entry.push(src[p]!);
          push2(body, uleb(entry.length));
          push2(body, entry);
        }
        // The stub: no locals, a placeholder body binaryen replaces.
        push2(body, [0x03, 0x00, 0x00, 0x0b]);
        section(SEC_CODE, body);
        break;
      }
      default:
        push(src.subarray(s.start, s.end));
    }
  }
  if (!globalWritten) section(SEC_GLOBAL, [0x01, ...globalEntry]);
  return { bytes: Uint8Array.from(out), stubIndex, fuelGlobal, loopChecks, entryChecks };
}

function push2(dst: number[], src: ArrayLike<number>): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}
