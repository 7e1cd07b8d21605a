import { asyncify } from './asyncify.js';
import { sha256Hex } from './digest.js';
import { TransformError } from './errors.js';
import { INFO_SECTION, readInstrumentInfo, type InstrumentInfo } from './info.js';
import { exportNames, readSections } from './wasm-binary.js';

export interface InstrumentResult {
  wasm: Uint8Array;
  info: InstrumentInfo;
  /** The input already carried a wmig.instrument section and is returned unchanged. */
  alreadyInstrumented: boolean;
}

export interface InstrumentOptions {
  /** Called as work starts on each stage: 'parse', 'asyncify', 'optimize', 'emit'. */
  onProgress?: (stage: string) => void;
}

/**
 * Makes a WASI preview1 module freezable: Asyncify at every WASI import except proc_exit,
 * mutable globals exported as `wmig.global.<index>`, and a wmig.instrument section.
 * Idempotent: an already-instrumented module comes back unchanged.
 */
export async function instrument(wasm: Uint8Array, options: InstrumentOptions = {}): Promise<InstrumentResult> {
  const existing = inspect(wasm);
  if (existing) return { wasm, info: existing, alreadyInstrumented: true };
  return { ...(await asyncify(wasm, sha256Hex(wasm), options)), alreadyInstrumented: false };
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
