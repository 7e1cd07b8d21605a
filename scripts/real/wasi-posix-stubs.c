/* WASI has no file permission bits or owners: accept the request and do nothing, as a file system
 * without permissions would. Programs (bzip2, minigzip) copy the input's mode to the output and
 * treat a failure as fatal, so succeeding is the faithful choice. */
#include "wasi-posix-stubs.h"
int fchmod(int fd, mode_t mode) { (void)fd; (void)mode; return 0; }
int fchown(int fd, uid_t owner, gid_t group) { (void)fd; (void)owner; (void)group; return 0; }
int chmod(const char *path, mode_t mode) { (void)path; (void)mode; return 0; }
int chown(const char *path, uid_t owner, gid_t group) { (void)path; (void)owner; (void)group; return 0; }
