// sleeper: prints, sleeps once for a long time (a single poll_oneoff), prints again. A freeze during
// the sleep must leave only the rest of it to sleep after thaw.
//
// Usage: sleeper [MS]   (default 1500)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 1500;
  printf("sleeping %ld ms\n", ms);
  fflush(stdout);
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
  printf("woke up\n");
  return 0;
}
