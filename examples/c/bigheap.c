// bigheap: state = a large, dense heap. Allocates N MiB and fills it with a
// non-zero xorshift pattern, so a snapshot must carry the whole linear memory
// (nothing compresses to zero pages). Used by the 64 MiB snapshot benchmark.
//
// Usage: bigheap [mib]   (default 64)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MIB (1024 * 1024)

static uint32_t xorshift32(uint32_t x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

int main(int argc, char **argv) {
  int mib = argc > 1 ? atoi(argv[1]) : 64;
  size_t words = (size_t)mib * MIB / 4, per8 = 8 * MIB / 4;
  uint32_t *buf = malloc((size_t)mib * MIB);
  if (!buf) {
    fprintf(stderr, "bigheap: cannot allocate %d MiB\n", mib);
    return 1;
  }
  printf("allocated %d MiB\n", mib);
  fflush(stdout);

  // Fill with a deterministic pattern, reporting every 8 MiB.
  uint32_t x = 0xdeadbeefu;
  for (size_t i = 0; i < words; i++) {
    buf[i] = x = xorshift32(x);
    if ((i + 1) % per8 == 0) {
      printf("filled %zu MiB\n", (i + 1) * 4 / MIB);
      fflush(stdout);
    }
  }

  // Regenerate the pattern to verify, and checksum the whole buffer.
  x = 0xdeadbeefu;
  uint32_t sum = 0;
  for (size_t i = 0; i < words; i++) {
    x = xorshift32(x);
    if (buf[i] != x) {
      fprintf(stderr, "bigheap: mismatch at word %zu\n", i);
      return 1;
    }
    sum = (sum ^ buf[i]) * 16777619u;
  }
  printf("verified %d MiB checksum=%08x\n", mib, sum);
  fflush(stdout);
  free(buf);
  return 0;
}
