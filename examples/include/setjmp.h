/* setjmp/longjmp for wasm32-wasi programs run by wmig.
 *
 * Put this directory first on the include path (-isystem .../examples/include). setjmp and
 * longjmp become imports of the host (module "wmig"), which implements them on Asyncify: setjmp
 * records the call stack, longjmp returns into the recorded one. So no exception-handling
 * instructions are needed (clang's own wasm lowering emits them, and Asyncify cannot transform
 * those), and a process frozen inside a protected call can longjmp after it is thawed.
 * Debian's wasi-libc has no setjmp.h; without this one, clang would take glibc's. */
#ifndef WMIG_SETJMP_H
#define WMIG_SETJMP_H

#ifdef __cplusplus
extern "C" {
#endif

/* The host uses the first 8 bytes; the rest keeps sizeof(jmp_buf) in the usual range. */
typedef struct __wmig_jmp_buf { unsigned int __wmig_state[8]; } jmp_buf[1];
typedef jmp_buf sigjmp_buf;

int setjmp(jmp_buf env)
  __attribute__((returns_twice, import_module("wmig"), import_name("setjmp")));
_Noreturn void longjmp(jmp_buf env, int value)
  __attribute__((import_module("wmig"), import_name("longjmp")));

/* WASI has no signals, so there is no signal mask to save or restore. */
#define _setjmp(env) setjmp(env)
#define _longjmp(env, value) longjmp(env, value)
#define sigsetjmp(env, savemask) setjmp(env)
#define siglongjmp(env, value) longjmp(env, value)

#ifdef __cplusplus
}
#endif
#endif
