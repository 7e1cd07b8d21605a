// clockrand: state = values from the host's clocks and entropy source kept in
// memory across calls. After a migration the new host's clocks must still be
// consistent: CLOCK_MONOTONIC must never go backwards relative to the value
// remembered before the freeze. Prints no clock or random values, so the
// output is deterministic.
//
// Usage: clockrand   (exits 1 with a message if any check fails)
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int fail(int iter, const char *why) {
  fprintf(stderr, "clockrand: iter %d: %s\n", iter, why);
  return 1;
}

static int64_t ns(const struct timespec *ts) {
  return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int main(void) {
  const int64_t y2020 = 1577836800LL * 1000000000;  // 2020-01-01T00:00:00Z in ns
  int64_t prev_mono = -1;

  for (int i = 0; i < 20; i++) {
    struct timespec mono, real;
    unsigned char rnd[64] = {0};

    if (clock_gettime(CLOCK_MONOTONIC, &mono) != 0) return fail(i, "CLOCK_MONOTONIC failed");
    if (clock_gettime(CLOCK_REALTIME, &real) != 0) return fail(i, "CLOCK_REALTIME failed");
    if (getentropy(rnd, sizeof rnd) != 0) return fail(i, "getentropy failed");

    if (ns(&mono) < prev_mono) return fail(i, "monotonic clock went backwards");
    if (ns(&real) < y2020) return fail(i, "realtime clock is before 2020");
    int nonzero = 0;
    for (size_t k = 0; k < sizeof rnd; k++) nonzero |= rnd[k];
    if (!nonzero) return fail(i, "64 random bytes are all zero");

    prev_mono = ns(&mono);
    printf("iter %d: ok\n", i);
    fflush(stdout);
  }
  return 0;
}
