/* os.execute and os.tmpname under WASI: there is no shell (system(NULL) says so, any command fails
 * with ENOSYS) and no temporary directory to name a file in (tmpnam fails, os.tmpname raises;
 * tmpfile fails, io.tmpfile returns nil and the error). */
#include <errno.h>
#include "lua-stubs.h"
char *tmpnam(char *s) { (void)s; errno = ENOSYS; return NULL; }
int system(const char *command) { if (command == NULL) return 0; errno = ENOSYS; return -1; }
FILE *tmpfile(void) { errno = ENOSYS; return NULL; }
