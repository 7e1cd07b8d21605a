// detclock: prints clock readings, sleeps and random bytes. Under `wmig run --deterministic` the
// output is the same on every run, and — since the virtual clock and the random stream travel in
// the snapshot — the same when frozen and thawed at any call.
//
// Usage: detclock [ITERATIONS]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long ns(const struct timespec *ts) {
  return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 12;
  for (int i = 0; i < n; i++) {
    struct timespec mono, real;
    unsigned char rnd[8];
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    getentropy(rnd, sizeof rnd);
    printf("%2d mono=%lld real=%lld rnd=", i, ns(&mono), ns(&real));
    for (size_t k = 0; k < sizeof rnd; k++) printf("%02x", rnd[k]);
    printf("\n");
    fflush(stdout);
    if (i % 3 == 2) {
      struct timespec d = {0, 2500000};  // 2.5 ms
      nanosleep(&d, NULL);
    }
  }
  return 0;
}
