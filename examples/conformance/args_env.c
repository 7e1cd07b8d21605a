/* args_* and environ_*: libc's view and the raw sizes agree. Run with args "alpha" "two words" ""
 * and env CONF_A=1 CONF_B=x=y. Prints argv[0] so the CLI contract test can check it. */
#include "conf.h"

extern char **environ;

int main(int argc, char **argv) {
  printf("argv0=%s\n", argv[0]);
  check("argc", argc, 4);
  check_str("argv1", argc > 1 ? argv[1] : NULL, "alpha");
  check_str("argv2 with space", argc > 2 ? argv[2] : NULL, "two words");
  check_str("argv3 empty", argc > 3 ? argv[3] : NULL, "");
  check_true("argv terminated by NULL", argv[argc] == NULL, "NULL");

  __wasi_size_t count = 0, size = 0;
  check("args_sizes_get", __wasi_args_sizes_get(&count, &size), 0);
  check("args count", count, 4);
  size_t want = 0;
  for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
  check("args buf size", size, (long long)want);
  char *buf = malloc(size);
  char **ptrs = malloc(sizeof(char *) * count);
  check("args_get", __wasi_args_get((uint8_t **)ptrs, (uint8_t *)buf), 0);
  check_true("args_get contiguous", count == 4 && ptrs[0] == buf && ptrs[1] == buf + strlen(argv[0]) + 1, "packed strings");

  check_str("env CONF_A", getenv("CONF_A"), "1");
  check_str("env CONF_B keeps '='", getenv("CONF_B"), "x=y");
  check_true("env unset", getenv("CONF_UNSET") == NULL, "NULL");
  __wasi_size_t ecount = 0, esize = 0;
  check("environ_sizes_get", __wasi_environ_sizes_get(&ecount, &esize), 0);
  size_t n = 0, ewant = 0;
  for (char **e = environ; *e; e++, n++) ewant += strlen(*e) + 1;
  check("environ count", ecount, (long long)n);
  check("environ buf size", esize, (long long)ewant);
  char *ebuf = malloc(esize + 1);
  char **eptrs = malloc(sizeof(char *) * (ecount + 1));
  check("environ_get", __wasi_environ_get((uint8_t **)eptrs, (uint8_t *)ebuf), 0);
  int found = 0;
  for (size_t i = 0; i < ecount; i++) found += strcmp(eptrs[i], "CONF_A=1") == 0;
  check("environ_get has CONF_A=1", found, 1);
  return conf_finish();
}
