// heapidle: a 64 MiB dense heap that then stays alive making cheap WASI calls
// (clock_gettime), so a freeze request is honoured at once. Used by the freeze/thaw
// latency benchmark; it exits after `seconds` of monotonic time.
//
// Usage: heapidle [mib] [seconds]   (defaults 64, 10)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MIB (1024 * 1024)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  int mib = argc > 1 ? atoi(argv[1]) : 64;
  int seconds = argc > 2 ? atoi(argv[2]) : 10;
  size_t words = (size_t)mib * MIB / 4;
  uint32_t *heap = malloc((size_t)mib * MIB);
  if (!heap) return 1;
  uint32_t x = 0x9e3779b9u;
  for (size_t i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    heap[i] = x;
  }
  printf("ready\n");
  fflush(stdout);

  // Idle: one WASI call per iteration until the time is up, then check the heap is intact.
  uint64_t end = now_ns() + (uint64_t)seconds * 1000000000u;
  while (now_ns() < end) {
  }
  x = 0x9e3779b9u;
  for (size_t i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (heap[i] != x) {
      printf("heap corrupted at word %zu\n", i);
      return 1;
    }
  }
  printf("done\n");
  return 0;
}
