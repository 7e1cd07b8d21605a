// interp: a small stack-machine bytecode interpreter (switch dispatch, plus builtins called
// through a function-pointer table, as real interpreters do), running a nested-loop program.
// Usage: interp [n]   (default 3000)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JMP, JZ, CALL, POP, HALT };

typedef int64_t (*builtin)(int64_t);
static int64_t b_square(int64_t x) { return x * x; }
static int64_t b_mix(int64_t x) { return (x ^ (x >> 7)) * 31 + 7; }
static int64_t b_abs(int64_t x) { return x < 0 ? -x : x; }
static builtin builtins[] = {b_square, b_mix, b_abs};

static int64_t run(const int32_t *code, int64_t *vars) {
  int64_t stack[64];
  int sp = 0, pc = 0;
  for (;;) {
    int32_t op = code[pc++];
    switch (op) {
      case PUSH: stack[sp++] = code[pc++]; break;
      case LOAD: stack[sp++] = vars[code[pc++]]; break;
      case STORE: vars[code[pc++]] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case JMP: pc = code[pc]; break;
      case JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
      case CALL: stack[sp - 1] = builtins[code[pc++]](stack[sp - 1]); break;
      case POP: sp--; break;
      case HALT: return vars[0];
      default: fprintf(stderr, "bad opcode %d\n", op); exit(1);
    }
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 3000;
  // acc = 0; for (i = 0; i < n; i++) for (j = 0; j < n; j++)
  //   acc = (acc + mix(i*j) + square(j)) % 1000000007, through abs()
  int32_t prog[128];
  int p = 0, loop_i, loop_j, exit_i_at, exit_j_at;
#define E(x) prog[p++] = (x)
  E(PUSH); E(0); E(STORE); E(0);
  E(PUSH); E(0); E(STORE); E(1);
  loop_i = p; E(LOAD); E(1); E(LOAD); E(3); E(LT); E(JZ); exit_i_at = p; E(0);
  E(PUSH); E(0); E(STORE); E(2);
  loop_j = p; E(LOAD); E(2); E(LOAD); E(3); E(LT); E(JZ); exit_j_at = p; E(0);
  E(LOAD); E(0); E(LOAD); E(1); E(LOAD); E(2); E(MUL); E(CALL); E(1); E(ADD);
  E(LOAD); E(2); E(CALL); E(0); E(ADD);
  E(CALL); E(2);
  E(PUSH); E(1000000007); E(MOD); E(STORE); E(0);
  E(LOAD); E(2); E(PUSH); E(1); E(ADD); E(STORE); E(2); E(JMP); E(loop_j);
  prog[exit_j_at] = p;
  E(LOAD); E(1); E(PUSH); E(1); E(ADD); E(STORE); E(1); E(JMP); E(loop_i);
  prog[exit_i_at] = p;
  E(HALT);
  int64_t vars[4] = {0, 0, 0, n};
  printf("interp: n=%d\n", n);
  printf("interp: %lld\n", (long long)run(prog, vars));
  return 0;
}
