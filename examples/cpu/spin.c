// spin: pure compute for a few seconds, with no WASI call between its first and last line.
// Used to test freezing inside a compute loop (wmig run --preempt --freeze-after MS).
//
// Usage: spin [millions-of-rounds]   (default 400: about 2 s uninstrumented under Node)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t mix(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

int main(int argc, char **argv) {
  long long rounds = (argc > 1 ? atoll(argv[1]) : 400) * 1000000LL;
  printf("spin: %lld rounds\n", rounds);
  fflush(stdout);
  uint64_t h = 0x9e3779b97f4a7c15ULL, acc = 0;
  for (long long i = 0; i < rounds; i++) {
    h = mix(h + (uint64_t)i);
    acc += h >> 60;
  }
  printf("spin: hash %016llx acc %llu\n", (unsigned long long)h, (unsigned long long)acc);
  return 0;
}
