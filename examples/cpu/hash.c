// hash: an open-addressing hash table under a stream of inserts, lookups and deletes,
// keys hashed with FNV-1a over their bytes. Memory-bound integer work.
// Usage: hash [millions-of-operations]   (default 20)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BITS 20
#define SIZE (1u << BITS)

static uint64_t keys[SIZE];
static uint32_t vals[SIZE];

static uint32_t fnv1a(uint64_t key) {
  uint32_t h = 2166136261u;
  for (int i = 0; i < 8; i++) { h ^= (uint8_t)(key >> (8 * i)); h *= 16777619u; }
  return h;
}

static uint32_t *slot(uint64_t key, int insert) {
  for (uint32_t i = fnv1a(key) & (SIZE - 1);; i = (i + 1) & (SIZE - 1)) {
    if (keys[i] == key) return &vals[i];
    if (keys[i] == 0) {
      if (!insert) return NULL;
      keys[i] = key;
      return &vals[i];
    }
  }
}

int main(int argc, char **argv) {
  long ops = (argc > 1 ? atol(argv[1]) : 20) * 1000000L;
  printf("hash: %ld operations\n", ops);
  uint64_t x = 88172645463325252ULL, found = 0, sum = 0;
  long live = 0;
  for (long i = 0; i < ops; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    uint64_t key = (x % (SIZE / 2)) + 1;
    if ((i & 3) != 3 || live > (long)(SIZE / 2)) {
      uint32_t *v = slot(key, 0);
      if (v) { found++; sum += *v; }
    } else {
      uint32_t *v = slot(key, 1);
      if (*v == 0) live++;
      *v += (uint32_t)i;
    }
  }
  printf("hash: live %ld found %llu sum %llu\n", live, (unsigned long long)found, (unsigned long long)sum);
  return 0;
}
