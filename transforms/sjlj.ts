// setjmp/longjmp on Asyncify. A program built with examples/include/setjmp.h calls these two
// imports instead of compiler-lowered setjmp (clang's wasm lowering emits exception-handling
// instructions Asyncify cannot transform). Both are unwind points: at setjmp the host unwinds
// to record the stack and rewinds at once; at longjmp it unwinds, discards that stack and
// rewinds into the one setjmp recorded. The transform only has to treat them as such.

export const SETJMP_IMPORT = { module: 'wmig', base: 'setjmp' } as const;
export const LONGJMP_IMPORT = { module: 'wmig', base: 'longjmp' } as const;

export function isJumpImport(module: string, base: string): boolean {
  return module === SETJMP_IMPORT.module && (base === SETJMP_IMPORT.base || base === LONGJMP_IMPORT.base);
}

/** wasm-ld's name for the C shadow stack pointer; the host restores it at longjmp. */
export const STACK_POINTER_NAME = '__stack_pointer';
