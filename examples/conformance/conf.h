/*
 * Shared by the conformance programs: deterministic "name: ok" / "name: FAIL expected X got Y"
 * lines, a non-zero exit on any failure, and raw WASI imports taking explicit (ptr, len) paths so a
 * test can pass bytes libc would never produce (a trailing NUL, say).
 *
 * The fixture directory (test/helpers/conformance-fixture.ts) is mounted as the preopen /data:
 *   hello.txt = "hello world\n"   sub/{a,b,c} (a = "A")   empty/   link-hello -> hello.txt
 *   link-sub -> sub   dangling -> nowhere   escape -> ../outside
 * With CONF_MAKE_FIXTURE=1 in the environment (an in-memory /data, which starts empty), the program
 * builds it itself before main (conf_make_fixture).
 */
#ifndef CONF_H
#define CONF_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int conf_failures;

#ifdef CONF_LINEBUF /* for debugging a hang: see every line as it is printed */
__attribute__((constructor)) static void conf_linebuf(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
#endif

/** got must equal want. */
static void check(const char *name, long long got, long long want) {
  if (got == want) {
    printf("%s: ok\n", name);
  } else {
    printf("%s: FAIL expected %lld got %lld\n", name, want, got);
    conf_failures++;
  }
}

/** got must be one of want1/want2 (where the spec allows either). */
static void check2(const char *name, long long got, long long want1, long long want2) {
  if (got == want1 || got == want2) {
    printf("%s: ok\n", name);
  } else {
    printf("%s: FAIL expected %lld or %lld got %lld\n", name, want1, want2, got);
    conf_failures++;
  }
}

/** A boolean condition; `what` describes the expectation in the FAIL line. */
static void check_true(const char *name, int cond, const char *what) {
  if (cond) {
    printf("%s: ok\n", name);
  } else {
    printf("%s: FAIL expected %s got otherwise\n", name, what);
    conf_failures++;
  }
}

static void check_str(const char *name, const char *got, const char *want) {
  if (got != NULL && strcmp(got, want) == 0) {
    printf("%s: ok\n", name);
  } else {
    printf("%s: FAIL expected \"%s\" got \"%s\"\n", name, want, got ? got : "(null)");
    conf_failures++;
  }
}

static int conf_finish(void) {
  fflush(stdout);
  return conf_failures ? 1 : 0;
}

/** The fd of the preopened directory named `name` (a leading "/" optional, as in wasi-libc), or -1. */
static int preopen_fd(const char *name) {
  for (int fd = 3; fd < 64; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
    char buf[256];
    size_t n = ps.u.dir.pr_name_len;
    if (n >= sizeof buf) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, n) != 0) continue;
    buf[n] = 0;
    if (strcmp(buf, name) == 0 || (name[0] == '/' && strcmp(buf, name + 1) == 0)) return fd;
  }
  return -1;
}

#define WASI_IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

WASI_IMPORT(path_open)
int32_t raw_path_open(int32_t fd, int32_t dirflags, const char *path, int32_t path_len, int32_t oflags,
                      int64_t rights_base, int64_t rights_inheriting, int32_t fdflags, int32_t *out);
WASI_IMPORT(path_filestat_get)
int32_t raw_path_filestat_get(int32_t fd, int32_t flags, const char *path, int32_t path_len, __wasi_filestat_t *out);
WASI_IMPORT(path_create_directory)
int32_t raw_path_create_directory(int32_t fd, const char *path, int32_t path_len);

#define RIGHTS_RW                                                                                        \
  (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |      \
   __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | \
   __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC |                 \
   __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_POLL_FD_READWRITE)
#define RIGHTS_RO                                                                                    \
  (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET | \
   __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_POLL_FD_READWRITE)
/* Opening a directory: every right below POLL_FD_READWRITE (what node:wasi lets a preopen pass on)
 * except the ones that make hosts open for writing (as wasi-libc's opendir does). */
#define RIGHTS_DIR                                                                                    \
  ((__wasi_rights_t)0x0fffffff & ~(__wasi_rights_t)(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_DATASYNC | \
                                                    __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE))

/** path_open wrapper returning the errno; *fd is -1 on failure. */
static int open_at(int dir, __wasi_lookupflags_t lf, const char *path, __wasi_oflags_t of, __wasi_rights_t rights,
                   __wasi_fdflags_t ff, int *fd) {
  __wasi_fd_t out = (__wasi_fd_t)-1;
  int e = __wasi_path_open(dir, lf, path, of, rights, rights, ff, &out);
  *fd = e == 0 ? (int)out : -1;
  return e;
}

/** Writes `s` to a fresh file `path` under `dir` (create+trunc). Returns errno. */
static int put_file(int dir, const char *path, const char *s) {
  int fd;
  int e = open_at(dir, 0, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RIGHTS_RW, 0, &fd);
  if (e) return e;
  __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  __wasi_size_t n;
  e = __wasi_fd_write(fd, &iov, 1, &n);
  __wasi_fd_close(fd);
  return e;
}

/** Reads up to cap-1 bytes of `path` under `dir` into buf (NUL-terminated). Returns errno. */
static int get_file(int dir, const char *path, char *buf, size_t cap) {
  int fd;
  int e = open_at(dir, 0, path, 0, RIGHTS_RO, 0, &fd);
  if (e) return e;
  __wasi_iovec_t iov = {(uint8_t *)buf, cap - 1};
  __wasi_size_t n = 0;
  e = __wasi_fd_read(fd, &iov, 1, &n);
  buf[e ? 0 : n] = 0;
  __wasi_fd_close(fd);
  return e;
}

/** A step of conf_make_fixture: a failure ends the program before any check runs. */
static void fixture_step(const char *what, int e) {
  if (e == 0) return;
  fprintf(stderr, "conf_make_fixture: %s: errno %d\n", what, e);
  exit(2);
}

__attribute__((constructor)) static void conf_make_fixture(void) {
  if (getenv("CONF_MAKE_FIXTURE") == NULL) return;
  int dir = preopen_fd("/data");
  fixture_step("hello.txt", put_file(dir, "hello.txt", "hello world\n"));
  fixture_step("sub", __wasi_path_create_directory(dir, "sub"));
  fixture_step("sub/a", put_file(dir, "sub/a", "A"));
  fixture_step("sub/b", put_file(dir, "sub/b", ""));
  fixture_step("sub/c", put_file(dir, "sub/c", ""));
  fixture_step("empty", __wasi_path_create_directory(dir, "empty"));
  fixture_step("link-hello", __wasi_path_symlink("hello.txt", dir, "link-hello"));
  fixture_step("link-sub", __wasi_path_symlink("sub", dir, "link-sub"));
  fixture_step("dangling", __wasi_path_symlink("nowhere", dir, "dangling"));
  fixture_step("escape", __wasi_path_symlink("../outside", dir, "escape"));
}
#endif
