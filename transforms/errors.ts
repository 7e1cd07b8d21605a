/**
 * Why a transform refused or failed. The CLI maps these to exit codes, so each names a
 * distinct situation rather than a component:
 * - 'not-wasm': the bytes are not a (valid) WebAssembly core module, or a wmig section is malformed.
 * - 'foreign-asyncify': Asyncify was already applied by another tool; we cannot know which
 *   imports it instruments nor what it did with the globals, so we cannot snapshot it.
 * - 'unsupported': valid wasm that wmig cannot migrate (a feature or global type it does not handle).
 * - 'binaryen-failed': binaryen threw or produced an invalid module: a bug on our side or in binaryen.
 * - 'io': the cache could not be written.
 */
export type TransformErrorReason = 'not-wasm' | 'foreign-asyncify' | 'unsupported' | 'binaryen-failed' | 'io';

export class TransformError extends Error {
  readonly reason: TransformErrorReason;
  constructor(reason: TransformErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransformError';
    this.reason = reason;
  }
}
