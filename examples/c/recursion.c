// recursion: state = a deep call stack. Each of D frames holds a volatile local
// array that is read again after the recursive call returns, and progress is
// printed deep inside the recursion, so a freeze there must capture and
// restore every frame (Asyncify's unwind/rewind through D frames).
//
// Usage: recursion [depth]   (default 2000)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int max_depth, every;

static uint32_t descend(int depth) {
  volatile uint32_t local[8];  // lives on the shadow stack; must survive the recursion
  for (int i = 0; i < 8; i++) local[i] = (uint32_t)depth * 2654435761u + (uint32_t)i;

  if (depth % every == 0) {
    printf("down depth=%d\n", depth);
    fflush(stdout);
  }

  uint32_t below = depth < max_depth ? descend(depth + 1) : 0x9e3779b9u;

  // Combine this frame's locals with the result from below.
  uint32_t r = below;
  for (int i = 0; i < 8; i++) r = (r ^ local[i]) * 16777619u;

  if (depth % every == 0) {
    printf("up depth=%d partial=%08x\n", depth, r);
    fflush(stdout);
  }
  return r;
}

int main(int argc, char **argv) {
  max_depth = argc > 1 ? atoi(argv[1]) : 2000;
  every = max_depth >= 10 ? max_depth / 10 : 1;
  uint32_t result = descend(0);
  printf("result=%08x\n", result);
  fflush(stdout);
  return 0;
}
