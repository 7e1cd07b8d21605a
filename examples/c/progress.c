// progress: the simplest migration test. State = a 256-word array in linear
// memory plus the loop counter; each step mixes the array and prints a
// checksum, so a thawed run must continue with exactly the same numbers.
//
// Usage: progress [steps]   (default 30)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t state[256];

static uint32_t xorshift32(uint32_t x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 30;

  uint32_t seed = 0x12345678u;
  for (int i = 0; i < 256; i++) state[i] = seed = xorshift32(seed);

  fprintf(stderr, "progress: starting %d steps\n", steps);
  fflush(stderr);

  for (int step = 1; step <= steps; step++) {
    // A little compute: a few passes mixing each word with its neighbour.
    for (int pass = 0; pass < 64; pass++)
      for (int i = 0; i < 256; i++)
        state[i] = xorshift32(state[i] ^ state[(i + 1) & 255]) + (uint32_t)step;

    uint32_t sum = 0;
    for (int i = 0; i < 256; i++) sum = sum * 31u + state[i];
    printf("step %d checksum=%08x\n", step, sum);
    fflush(stdout);  // one fd_write per line: each step is a freeze point
  }

  fprintf(stderr, "progress: done\n");
  fflush(stderr);
  return 0;
}
