import { asyncify, type AsyncifyStats, type InstrumentScope } from './asyncify.js';
import { sha256Hex } from './digest.js';
import { TransformError } from './errors.js';
import { INFO_SECTION, readInstrumentInfo, type InstrumentInfo } from './info.js';
import { PREEMPT_IMPORT } from './preempt.js';
import { exportNames, readSections } from './wasm-binary.js';

export interface InstrumentResult {
  wasm: Uint8Array;
  info: InstrumentInfo;
  /** The input already carried a wmig.instrument section and is returned unchanged. */
  alreadyInstrumented: boolean;
  /** What the transform did; absent when nothing was computed (already instrumented, cache hit). */
  stats?: AsyncifyStats;
}

export interface InstrumentOptions {
  /** Called as work starts on each stage: 'scan', ['reserve'], ['preempt'], ['parse'], ['scope'], 'asyncify', ['optimize'], 'emit'. */
  onProgress?: (stage: string) => void;
  /** Which functions are instrumented; default 'precise' (only those that can reach a freeze point). */
  scope?: InstrumentScope;
  /** Preemption points at loop headers, so a freeze is honoured in compute loops. Default false. */
  preempt?: boolean;
  /** binaryen optimize level of Asyncify's own tidying, 1 or 2 (default 2). */
  optimizeLevel?: number;
  /** Also optimize the whole module after Asyncify (slower; default false). */
  optimizeModule?: boolean;
  /** Give instrumented functions a body without Asyncify's rewind guards, plus a copy with them for
   * rewinds (fast-path.ts): faster, about twice the instrumented code. Default true. */
  fastPaths?: boolean;
  /** A native wasm-opt to use, or 'off' for binaryen.js (default: $WMIG_WASM_OPT, else .wmig-tools/, else binaryen.js). */
  wasmOpt?: string;
}

/** The part of the options that changes the output: cache entries are keyed by it (and by the tool). */
export function variantKey(options: InstrumentOptions): string {
  let key = '';
  if (options.preempt) key += '-preempt';
  if (options.scope === 'asyncify') key += '-asyncify';
  if (options.optimizeLevel !== undefined && options.optimizeLevel !== 2) key += `-O${options.optimizeLevel}`;
  if (options.optimizeModule) key += '-Omodule';
  if (options.fastPaths === false) key += '-compact';
  return key;
}

/**
 * Makes a WASI preview1 module freezable: Asyncify at every WASI import except proc_exit
 * (and at wmig.preempt with `preempt`), only in functions that can reach one (`scope`),
 * mutable globals exported as `wmig.global.<index>`, and a wmig.instrument section.
 * Idempotent: an already-instrumented module comes back unchanged.
 */
export async function instrument(wasm: Uint8Array, options: InstrumentOptions = {}): Promise<InstrumentResult> {
  const existing = inspect(wasm);
  if (existing) return { wasm, info: existing, alreadyInstrumented: true };
  return { ...(await asyncify(wasm, sha256Hex(wasm), options)), alreadyInstrumented: false };
}

/** The options that made an instrumented module, from its info: a snapshot records them, so that a
 * thaw given the plain module (`--module`) instruments it the same way. */
export function outputOptions(info: InstrumentInfo): { preempt: boolean; fastPaths: boolean } {
  return {
    preempt: info.freezePoints.includes(`${PREEMPT_IMPORT.module}.${PREEMPT_IMPORT.base}`),
    fastPaths: info.compact !== true,
  };
}

/**
 * The wmig info if the module is already ours, null if it is a plain module to instrument.
 * Refuses non-wasm bytes and modules Asyncify-ed by someone else.
 */
export function inspect(wasm: Uint8Array): InstrumentInfo | null {
  const info = readInstrumentInfo(wasm);
  if (info) return info;
  if (exportNames(readSections(wasm)).includes('asyncify_start_unwind')) {
    throw new TransformError(
      'foreign-asyncify',
      `module was instrumented by another tool (it exports asyncify_start_unwind but has no ${INFO_SECTION} section); pass the original, uninstrumented module`,
    );
  }
  return null;
}
