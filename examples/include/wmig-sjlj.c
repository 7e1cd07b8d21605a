/* The runtime of wmig's setjmp/longjmp (see setjmp.h): the functions and variables LLVM's
 * Emscripten setjmp lowering (-mllvm -enable-emscripten-sjlj, clang 14) calls and reads.
 *
 * The lowering gives each function that calls setjmp a table of (id, label) rows, allocated at
 * its entry with room for 4 rows plus a terminator and freed at its exit. setjmp(env) becomes
 * `table = saveSetjmp(env, label, table, size); size = getTempRet0();`. Every call in that
 * function that may longjmp goes through `env.invoke_*`; after it the code reads __THREW__ and,
 * when set, asks testSetjmp whether the jmp_buf's id belongs to this function: if so it resumes
 * after that setjmp (which returns __threwValue), if not it longjmps on to the next caller.
 *
 * longjmp (emscripten_longjmp here) sets __THREW__ and __threwValue, gives back the shadow
 * stack the abandoned frames used, and calls the host, which unwinds the stack with Asyncify
 * up to the nearest invoke and returns from it. Everything lives in linear memory, so it
 * travels in a snapshot like any other program state. */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

/* The jmp_buf of the longjmp under way (0: none), and what its setjmp returns. */
uintptr_t __THREW__;
int __threwValue;

struct setjmp_row {
  uint32_t id; /* 0 ends the table */
  uint32_t label;
};

/* saveSetjmp's second result (the table's new size), read back through getTempRet0. */
static uint32_t temp_ret;
static uint32_t last_id;

uint32_t getTempRet0(void) { return temp_ret; }

void setTempRet0(uint32_t value) { temp_ret = value; }

static inline uint32_t stack_pointer(void) {
  uint32_t sp;
  __asm__ volatile(".globaltype __stack_pointer, i32\n\tglobal.get __stack_pointer\n\tlocal.set %0" : "=r"(sp));
  return sp;
}

static inline void set_stack_pointer(uint32_t sp) {
  __asm__ volatile(".globaltype __stack_pointer, i32\n\tlocal.get %0\n\tglobal.set __stack_pointer" : : "r"(sp));
}

/* Called by setjmp's caller: this function has no shadow-stack frame of its own, so the stack
 * pointer it reads is the caller's, which longjmp restores. */
struct setjmp_row *saveSetjmp(uint32_t *env, uint32_t label, struct setjmp_row *table, uint32_t size) {
  if (++last_id == 0) last_id = 1;
  env[0] = last_id;
  env[1] = stack_pointer();
  uint32_t free_row = 0;
  while (free_row < size && table[free_row].id != 0) free_row++;
  if (free_row == size) {
    size *= 2;
    table = realloc(table, (size + 1) * sizeof *table);
    if (table == NULL) abort();
  }
  table[free_row].id = last_id;
  table[free_row].label = label;
  table[free_row + 1].id = 0;
  temp_ret = size;
  return table;
}

uint32_t testSetjmp(uint32_t id, const struct setjmp_row *table, uint32_t size) {
  for (uint32_t row = 0; row < size && table[row].id != 0; row++) {
    if (table[row].id == id) return table[row].label;
  }
  return 0;
}

/* The host's half: unwinds to the nearest invoke (a trap if there is none). It returns, as
 * every Asyncify unwind point does, with the stack unwinding. */
void wmig_longjmp_unwind(uintptr_t env) __attribute__((import_module("wmig"), import_name("longjmp_unwind")));

void emscripten_longjmp(uintptr_t env, int value) {
  __THREW__ = env;
  __threwValue = value != 0 ? value : 1; /* longjmp(env, 0) makes setjmp return 1 */
  set_stack_pointer(((const uint32_t *)env)[1]);
  wmig_longjmp_unwind(env);
}
