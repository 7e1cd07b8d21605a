// argsenv: state = the process's arguments and environment, which live in
// linear memory after startup (args_get/environ_get are not called again).
// Exits with status argc so exit-status propagation can be tested.
//
// Usage: argsenv [args...]
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  fflush(stdout);
  for (int i = 0; i < argc; i++) {
    printf("argv[%d]=%s\n", i, argv[i]);
    fflush(stdout);
  }
  for (char **e = environ; *e; e++) {
    printf("env %s\n", *e);
    fflush(stdout);
  }
  return argc;
}
