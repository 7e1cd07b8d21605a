// setjmp/longjmp on Asyncify. A program built with examples/include/setjmp.h calls these two
// imports instead of compiler-lowered setjmp (clang's wasm lowering emits exception-handling
// instructions Asyncify cannot transform). Both are unwind points: at setjmp the host unwinds
// to record the stack and rewinds at once; at longjmp it unwinds, discards that stack and
// rewinds into the one setjmp recorded. The transform only has to treat them as such.

const SETJMP_IMPORT = { module: 'wmig', base: 'setjmp' } as const;
const LONGJMP_IMPORT = { module: 'wmig', base: 'longjmp' } as const;

/** The two imports as `module.base`, the way instrument info lists freeze points. */
export const SETJMP_NAME = `${SETJMP_IMPORT.module}.${SETJMP_IMPORT.base}`;
export const LONGJMP_NAME = `${LONGJMP_IMPORT.module}.${LONGJMP_IMPORT.base}`;

export function isJumpImport(qualifiedName: string): boolean {
  return qualifiedName === SETJMP_NAME || qualifiedName === LONGJMP_NAME;
}

/** wasm-ld's name for the C shadow stack pointer; the host restores it at longjmp. */
export const STACK_POINTER_NAME = '__stack_pointer';
