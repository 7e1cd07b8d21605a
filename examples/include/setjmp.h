/* setjmp/longjmp for wasm32-wasi programs run by wmig.
 *
 * Build with this directory first on the include path and LLVM's Emscripten setjmp lowering on,
 * and link the small runtime beside it:
 *
 *   clang --target=wasm32-wasi -mllvm -enable-emscripten-sjlj -isystem .../examples/include \
 *     prog.c .../examples/include/wmig-sjlj.c
 *
 * (wmig needs nothing more; `-Wl,--export-table` also lets other hosts provide the invokes.)
 *
 * The lowering turns setjmp into bookkeeping in linear memory (saveSetjmp) and every call that
 * may longjmp inside a function that calls setjmp into an `env.invoke_*` import, which wmig's
 * host implements; longjmp becomes emscripten_longjmp (wmig-sjlj.c), which records where to go
 * and asks the host to unwind the stack to the nearest invoke. No exception-handling
 * instructions are emitted (Asyncify cannot transform them), setjmp costs no host call, and all
 * of it lives in linear memory, so a process frozen inside a protected call longjmps after the
 * thaw. Without the -mllvm flag the link fails on an undefined `setjmp`.
 * Debian's wasi-libc has no setjmp.h; without this one, clang would take glibc's. */
#ifndef WMIG_SETJMP_H
#define WMIG_SETJMP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Word 0: the setjmp's id (the lowering reads it); word 1: the shadow stack pointer at setjmp,
 * which longjmp restores. The rest keeps sizeof(jmp_buf) in the usual range. */
typedef struct __wmig_jmp_buf { unsigned int __wmig_state[8]; } jmp_buf[1];
typedef jmp_buf sigjmp_buf;

int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int value);

/* WASI has no signals, so there is no signal mask to save or restore. */
#define _setjmp(env) setjmp(env)
#define _longjmp(env, value) longjmp(env, value)
#define sigsetjmp(env, savemask) setjmp(env)
#define siglongjmp(env, value) longjmp(env, value)

#ifdef __cplusplus
}
#endif
#endif
