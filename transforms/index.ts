// Bytes-to-bytes transforms that make WASI modules freezable. Nothing here knows the runtime.
export { TransformError, type TransformErrorReason } from './errors.js';
export { sha256Hex } from './digest.js';
export {
  TRANSFORM_VERSION,
  INFO_SECTION,
  readInstrumentInfo,
  type InstrumentInfo,
  type ExportedGlobal,
  type GlobalValueType,
} from './info.js';
export { instrument, outputOptions, variantKey, type InstrumentResult, type InstrumentOptions } from './instrument.js';
export type { InstrumentScope, AsyncifyStats } from './asyncify.js';
export { PREEMPT_IMPORT } from './preempt.js';
export {
  instrumentCached,
  defaultCacheDir,
  type InstrumentCachedOptions,
  type CachedInstrumentResult,
} from './cache.js';
export { LONGJMP_UNWIND_NAME, isInvokeImport } from './sjlj.js';
