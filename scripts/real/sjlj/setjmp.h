/* setjmp/longjmp for wasm32-wasi with clang >= 19's -mllvm -wasm-enable-sjlj (Debian's 2022 wasi-libc
 * has neither the header nor the runtime; glibc's header would be picked up otherwise). The compiler
 * turns setjmp/longjmp calls into calls to the __wasm_setjmp* runtime of sjlj-rt.c. */
#ifndef WMIG_SETJMP_H
#define WMIG_SETJMP_H
typedef unsigned long long jmp_buf[8];
typedef jmp_buf sigjmp_buf;
int setjmp(jmp_buf env) __attribute__((returns_twice));
void longjmp(jmp_buf env, int val) __attribute__((noreturn));
#define _setjmp setjmp
#define _longjmp longjmp
#endif
