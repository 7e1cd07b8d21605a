/* fd_fdstat_get (filetype, APPEND reported back, rights), fd_fdstat_set_flags, fd_fdstat_set_rights. */
#include "conf.h"

int main(void) {
  int dir = preopen_fd("/data");
  __wasi_fdstat_t fs;
  check("fdstat preopen", __wasi_fd_fdstat_get(dir, &fs), 0);
  check("fdstat preopen filetype DIRECTORY", fs.fs_filetype, __WASI_FILETYPE_DIRECTORY);
  check_true("preopen has path_open right", (fs.fs_rights_base & __WASI_RIGHTS_PATH_OPEN) != 0, "PATH_OPEN");
  check("fdstat bad fd BADF", __wasi_fd_fdstat_get(99, &fs), __WASI_ERRNO_BADF);

  int fd;
  check("open with APPEND", open_at(dir, 0, "log.txt", __WASI_OFLAGS_CREAT, RIGHTS_RW, __WASI_FDFLAGS_APPEND, &fd), 0);
  check("fdstat file", __wasi_fd_fdstat_get(fd, &fs), 0);
  check("fdstat file filetype REGULAR_FILE", fs.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
  check("fdstat reports APPEND", fs.fs_flags & __WASI_FDFLAGS_APPEND, __WASI_FDFLAGS_APPEND);
  check_true("file has FD_READ right", (fs.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0, "FD_READ");
  __wasi_size_t n;
  __wasi_ciovec_t a = {(const uint8_t *)"one\n", 4};
  __wasi_fd_write(fd, &a, 1, &n);
  __wasi_filesize_t p;
  __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &p);
  __wasi_ciovec_t b = {(const uint8_t *)"two\n", 4};
  check("append write after seek 0", __wasi_fd_write(fd, &b, 1, &n), 0);
  char buf[32];
  check("read back", get_file(dir, "log.txt", buf, sizeof buf), 0);
  check_str("APPEND writes at the end", buf, "one\ntwo\n");

  check("set_flags clear APPEND", __wasi_fd_fdstat_set_flags(fd, 0), 0);
  __wasi_fd_fdstat_get(fd, &fs);
  check("fdstat APPEND cleared", fs.fs_flags & __WASI_FDFLAGS_APPEND, 0);
  __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &p);
  __wasi_ciovec_t c = {(const uint8_t *)"ONE\n", 4};
  __wasi_fd_write(fd, &c, 1, &n);
  get_file(dir, "log.txt", buf, sizeof buf);
  check_str("write without APPEND at offset", buf, "ONE\ntwo\n");
  check("set_flags APPEND again", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
  __wasi_fd_fdstat_get(fd, &fs);
  check("fdstat APPEND set again", fs.fs_flags & __WASI_FDFLAGS_APPEND, __WASI_FDFLAGS_APPEND);
  check("set_flags bad fd BADF", __wasi_fd_fdstat_set_flags(99, 0), __WASI_ERRNO_BADF);

  /* rights can shrink, never grow */
  __wasi_fd_fdstat_get(fd, &fs);
  __wasi_rights_t fewer = fs.fs_rights_base & ~(__wasi_rights_t)__WASI_RIGHTS_FD_READ;
  check("set_rights drop FD_READ", __wasi_fd_fdstat_set_rights(fd, fewer, fs.fs_rights_inheriting), 0);
  __wasi_fdstat_t after;
  __wasi_fd_fdstat_get(fd, &after);
  check("rights dropped", (long long)(after.fs_rights_base & __WASI_RIGHTS_FD_READ), 0);
  check("set_rights grow NOTCAPABLE", __wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base, fs.fs_rights_inheriting), __WASI_ERRNO_NOTCAPABLE);
  uint8_t x[4];
  __wasi_iovec_t iv = {x, 4};
  check("read without FD_READ right", __wasi_fd_read(fd, &iv, 1, &n), __WASI_ERRNO_NOTCAPABLE);
  __wasi_fd_close(fd);

  /* libc: O_APPEND round trip through fcntl */
  FILE *f = fopen("/data/log2.txt", "a");
  check_true("fopen a", f != NULL, "a FILE");
  fputs("x\n", f);
  fclose(f);
  f = fopen("/data/log2.txt", "a");
  fputs("y\n", f);
  fclose(f);
  get_file(dir, "log2.txt", buf, sizeof buf);
  check_str("libc append mode", buf, "x\ny\n");
  return conf_finish();
}
