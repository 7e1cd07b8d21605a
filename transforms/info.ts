import { TransformError } from './errors.js';
import { findCustomSection, readSections } from './wasm-binary.js';

/** Bumped whenever instrument() output changes meaning; part of the cache file name. */
export const TRANSFORM_VERSION = 17;

/** Custom section carrying InstrumentInfo as UTF-8 JSON. */
export const INFO_SECTION = 'wmig.instrument';

export type GlobalValueType = 'i32' | 'i64' | 'f32' | 'f64';

/** A mutable global exported so a snapshot can save and restore it (Asyncify does not). */
export interface ExportedGlobal {
  /** Export name, `wmig.global.<index>`. */
  export: string;
  /** Index in the module's global index space (imports included). */
  index: number;
  type: GlobalValueType;
}

export interface InstrumentInfo {
  transformVersion: number;
  /** sha256 hex of the module before instrumentation. */
  originalDigest: string;
  /** The imports that may unwind, as `module.base`. */
  freezePoints: string[];
  globals: ExportedGlobal[];
  /** Export name of the table, for modules that import `env.invoke_*` (setjmp/longjmp, sjlj.ts):
   * the host's invoke calls into it. */
  table?: string;
  /** Pages at the top of memory the guest cannot see, for Asyncify's data (transforms/reserve.ts);
   * absent when the memory could not be reserved in (the host then borrows guest memory). */
  reservedPages?: number;
  /** Set when instrumented without fast paths (`fastPaths: false`, `--compact`), so that a thaw can
   * instrument the plain module the same way. */
  compact?: true;
  /** With preemption checks: the export name of the flag they read (one of `globals`); the host sets it to 1 to have the guest call wmig.preempt. */
  preemptFlag?: string;
}

export function encodeInfo(info: InstrumentInfo): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(info));
}

/**
 * The wmig.instrument section of a module, or null if it has none. Walks section headers
 * only (no binaryen), so it is cheap on large modules. Throws TransformError('not-wasm')
 * if the bytes are not wasm or the section is malformed.
 */
export function readInstrumentInfo(wasm: Uint8Array): InstrumentInfo | null {
  const payload = findCustomSection(readSections(wasm), INFO_SECTION);
  return payload ? parseInfo(payload) : null;
}

function parseInfo(payload: Uint8Array): InstrumentInfo {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (e) {
    throw badSection('not UTF-8 JSON', e);
  }
  if (!isRecord(json)) throw badSection('not a JSON object');
  const { transformVersion, originalDigest, freezePoints, globals, table, reservedPages, compact, preemptFlag } = json;
  if (!Number.isSafeInteger(transformVersion)) throw badSection('transformVersion is not an integer');
  if (typeof originalDigest !== 'string' || !/^[0-9a-f]{64}$/.test(originalDigest)) {
    throw badSection('originalDigest is not a sha256 hex digest');
  }
  if (!Array.isArray(freezePoints) || !freezePoints.every((f) => typeof f === 'string')) {
    throw badSection('freezePoints is not a list of strings');
  }
  if (!Array.isArray(globals) || !globals.every(isExportedGlobal)) {
    throw badSection('globals is not a list of {export, index, type}');
  }
  if (table !== undefined && (typeof table !== 'string' || table === '')) throw badSection('table is not an export name');
  if (reservedPages !== undefined && !(Number.isSafeInteger(reservedPages) && (reservedPages as number) > 0)) {
    throw badSection('reservedPages is not a positive integer');
  }
  if (compact !== undefined && compact !== true) throw badSection('compact is not true');
  if (preemptFlag !== undefined && !(globals as ExportedGlobal[]).some((g) => g.export === preemptFlag && g.type === 'i32')) {
    throw badSection('preemptFlag is not an exported i32 global');
  }
  // Rebuilt field by field so unknown fields from a newer writer do not leak through.
  return {
    transformVersion: transformVersion as number,
    originalDigest,
    freezePoints: [...freezePoints],
    globals: globals.map((g) => ({ export: g.export, index: g.index, type: g.type })),
    ...(table === undefined ? {} : { table }),
    ...(reservedPages === undefined ? {} : { reservedPages: reservedPages as number }),
    ...(compact === undefined ? {} : { compact }),
    ...(preemptFlag === undefined ? {} : { preemptFlag: preemptFlag as string }),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isExportedGlobal(v: unknown): v is ExportedGlobal {
  return (
    isRecord(v) &&
    typeof v.export === 'string' &&
    Number.isSafeInteger(v.index) &&
    (v.index as number) >= 0 &&
    (v.type === 'i32' || v.type === 'i64' || v.type === 'f32' || v.type === 'f64')
  );
}

function badSection(what: string, cause?: unknown): TransformError {
  return new TransformError('not-wasm', `malformed ${INFO_SECTION} section: ${what}`, { cause });
}
