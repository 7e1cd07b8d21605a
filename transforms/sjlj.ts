// setjmp/longjmp through LLVM's Emscripten setjmp lowering (examples/include/setjmp.h and
// wmig-sjlj.c). Two kinds of import take part, and both may unwind:
// - `env.invoke_<sig>(fnptr, args…)`: a call the lowering routes through the host, which calls
//   table entry fnptr with args. A freeze below it unwinds through it (the host returns, the
//   caller saves its frame), a rewind re-enters it, and a longjmp's unwind stops at it.
// - `wmig.longjmp_unwind(env)`: longjmp's request to unwind up to the nearest invoke.

const INVOKE_MODULE = 'env';
const INVOKE_PREFIX = 'invoke_';

/** Export name the transform gives the table, which invokes call into. */
export const INVOKE_TABLE_EXPORT = 'wmig.table';

/** `module.base` of longjmp's unwind request. */
export const LONGJMP_UNWIND_NAME = 'wmig.longjmp_unwind';

/** An import the lowering made for a call that may longjmp: the callee's table index comes first. */
export function isInvokeImport(module: string, base: string): boolean {
  return module === INVOKE_MODULE && base.startsWith(INVOKE_PREFIX) && base.length > INVOKE_PREFIX.length;
}
