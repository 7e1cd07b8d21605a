/* What Lua 5.4's os library calls and WASI has not: a shell, temporary file names and anonymous temporary files. Force-included
 * (-include) when building Lua; definitions in lua-stubs.c. Lua's sources stay unmodified. */
#ifndef WMIG_LUA_STUBS_H
#define WMIG_LUA_STUBS_H
#include <stdio.h>
#ifndef L_tmpnam
#define L_tmpnam 32
#endif
char *tmpnam(char *s);
int system(const char *command);
FILE *tmpfile(void);
#endif
