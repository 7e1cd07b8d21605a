/* proc_exit with the code given as argv[1] (after writing to stdout and stderr). */
#include "conf.h"
#include <unistd.h>

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 0;
  printf("exiting with %d\n", code);
  fflush(stdout);
  fprintf(stderr, "stderr line\n");
  if (argc > 2 && strcmp(argv[2], "trap") == 0) __builtin_trap();
  if (argc > 2 && strcmp(argv[2], "return") == 0) return code;
  __wasi_proc_exit(code);
}
