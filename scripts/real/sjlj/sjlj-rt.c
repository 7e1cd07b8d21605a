/* The runtime clang 19's wasm setjmp/longjmp lowering calls. A jmp_buf records which function
 * invocation called setjmp and the label of that call site; longjmp throws a wasm exception with the
 * C longjmp tag carrying (env, val), and the landing pad in the invocation asks __wasm_setjmp_test
 * whether env belongs to it. Compile with -fwasm-exceptions. */
#include <stdint.h>

struct wmig_jmp {
  void *invocation;
  uint32_t label;
  struct { void *env; int val; } arg;
};

_Static_assert(sizeof(struct wmig_jmp) <= 64, "jmp_buf is 64 bytes");

void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
  struct wmig_jmp *j = env;
  j->invocation = invocation;
  j->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation) {
  struct wmig_jmp *j = env;
  return j->invocation == invocation ? j->label : 0;
}

void __wasm_longjmp(void *env, int val) {
  struct wmig_jmp *j = env;
  j->arg.env = env;
  j->arg.val = val == 0 ? 1 : val;
  __builtin_wasm_throw(1, &j->arg);
}
