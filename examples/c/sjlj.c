/* setjmp/longjmp across frames, the way C programs do error handling (Lua, libpng, parsers):
 * a stack of handlers, errors thrown from deep recursion, nested handlers that rethrow to the
 * outer one, a jmp_buf saved and restored with memcpy, longjmp(env, 0), volatile locals that
 * must keep their last value, a dozen setjmps live in one call, and thousands of throws out of
 * deep frames (the shadow stack must be given back at each longjmp, or the 1 MiB stack
 * overflows). WASI calls (stderr writes) happen inside protected calls, so a freeze can land
 * there and the longjmp runs after the thaw.
 * `sjlj bad-longjmp` longjmps to a jmp_buf setjmp never filled; `sjlj null-call` calls a null
 * function pointer inside a protected call. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

struct handler {
  jmp_buf env;
  struct handler *prev;
};

static struct handler *top;

static _Noreturn void throw_error(int code) {
  longjmp(top->env, code);
}

/* Recurses `depth` frames, each with a frame-sized buffer on the shadow stack, then reports on
 * stderr (a freeze point inside the protected call) and throws when `n` is a multiple of 3. */
static int risky(int depth, int n, int loud) {
  volatile char frame[512];
  memset((char *)frame, depth, sizeof frame);
  if (depth > 0) return risky(depth - 1, n, loud) + frame[depth];
  if (loud) fprintf(stderr, "risky n=%d\n", n);
  if (n % 3 == 0) throw_error(n == 0 ? 0 : 100 + n);
  return n;
}

/* Catches odd error codes itself and rethrows even ones to the outer handler. */
static int inner(int n) {
  struct handler h;
  h.prev = top;
  top = &h;
  volatile int attempts = 0;
  int code = setjmp(h.env);
  attempts++;
  if (code == 0) {
    int r = risky(8, n, 1);
    top = h.prev;
    return r;
  }
  top = h.prev;
  if (code % 2 == 1) {
    printf("inner caught %d after %d attempt(s)\n", code, attempts);
    return -code;
  }
  throw_error(code); /* rethrow across inner's frame to the outer handler */
}

static int outer(int n) {
  struct handler h;
  h.prev = top;
  top = &h;
  int code = setjmp(h.env);
  if (code == 0) {
    int r = inner(n);
    top = h.prev;
    return r;
  }
  top = h.prev;
  printf("outer caught %d\n", code);
  return 1000 + code;
}

/* A saved copy of a jmp_buf, restored later with memcpy, still works. */
static int saved_copy(void) {
  jmp_buf first, saved;
  volatile int stage = 0;
  int code = setjmp(first);
  stage++;
  if (code == 0) {
    memcpy(saved, first, sizeof(jmp_buf));
    longjmp(saved, 7);
  }
  printf("copy: code %d at stage %d\n", code, stage);
  return code;
}

/* Twelve setjmps in one call of a function, each later one jumping back to the one six before it
 * from a callee: the function's table of setjmps outgrows its first rows while all stay live. */
static _Noreturn void jump_to(jmp_buf *env, int value) {
  longjmp(*env, value);
}

static int setjmp_table(void) {
  jmp_buf bufs[12];
  volatile int sum = 0;
  volatile int i;
  for (i = 0; i < 12; i++) {
    int value = setjmp(bufs[i]);
    if (value != 0) {
      sum += value;
      continue;
    }
    if (i >= 6) jump_to(&bufs[i - 6], 100 + i);
  }
  printf("table: sum %d\n", sum);
  return sum;
}

/* Thousands of throws out of deep frames: without the stack pointer restored this overflows. */
static long many_throws(int count) {
  struct handler h;
  h.prev = top;
  top = &h;
  volatile long sum = 0;
  volatile int i = 0;
  if (setjmp(h.env) != 0) {
    sum += i;
    i++;
  }
  if (i < count) risky(40, 3, 0); /* always throws (n = 3) */
  top = h.prev;
  return sum;
}

/* A call through a null function pointer in a function that calls setjmp: through an invoke,
 * it must trap as a call_indirect through a null table entry does (natively: a crash). */
static int protected_null_call(void) {
  jmp_buf env;
  int (*volatile fn)(void) = 0;
  if (setjmp(env) == 0) return fn();
  return 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "null-call") == 0) return protected_null_call();
  if (argc > 1 && strcmp(argv[1], "bad-longjmp") == 0) {
    static jmp_buf never_set;
    longjmp(never_set, 1); /* undefined in C; wmig traps with a message */
  }
  long total = 0;
  for (int n = 0; n < 8; n++) {
    int r = outer(n);
    printf("n=%d -> %d\n", n, r);
    total += r;
  }
  total += saved_copy();
  total += setjmp_table();
  total += many_throws(3000);
  printf("total %ld\n", total);
  return 0;
}
