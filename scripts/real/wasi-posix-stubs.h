/* Declarations of POSIX calls that WASI (and so wasi-libc) does not have: file ownership and
 * permission bits. Force-included (-include) when building real programs; definitions in
 * wasi-posix-stubs.c. Upstream sources stay unmodified. */
#ifndef WMIG_WASI_POSIX_STUBS_H
#define WMIG_WASI_POSIX_STUBS_H
#include <sys/types.h>
int fchmod(int fd, mode_t mode);
int fchown(int fd, uid_t owner, gid_t group);
int chmod(const char *path, mode_t mode);
int chown(const char *path, uid_t owner, gid_t group);
#endif
