/* fd_read/fd_write/fd_pread/fd_pwrite/fd_seek/fd_tell, fd_renumber, fd_close twice, plus stdio. */
#include "conf.h"

static long long seek(int fd, long long off, int whence, long long *pos) {
  __wasi_filesize_t p = 0;
  int e = __wasi_fd_seek(fd, off, whence, &p);
  *pos = e ? -1 : (long long)p;
  return e;
}

int main(void) {
  int dir = preopen_fd("/data");
  check_true("preopen /data found", dir >= 3, "an fd >= 3");
  int fd;
  check("open hello.txt", open_at(dir, 0, "hello.txt", 0, RIGHTS_RO, 0, &fd), 0);
  char buf[64];
  __wasi_iovec_t iov = {(uint8_t *)buf, 5};
  __wasi_size_t n = 0;
  check("fd_read", __wasi_fd_read(fd, &iov, 1, &n), 0);
  check("fd_read count", n, 5);
  check_true("fd_read bytes", memcmp(buf, "hello", 5) == 0, "\"hello\"");
  __wasi_filesize_t pos = 0;
  check("fd_tell after read", __wasi_fd_tell(fd, &pos), 0);
  check("fd_tell value", (long long)pos, 5);
  /* two iovecs in one read */
  char b1[3], b2[100];
  __wasi_iovec_t two[2] = {{(uint8_t *)b1, 3}, {(uint8_t *)b2, sizeof b2}};
  check("fd_read scatter", __wasi_fd_read(fd, two, 2, &n), 0);
  check("fd_read scatter count (to EOF)", n, 7);
  check_true("fd_read scatter bytes", memcmp(b1, " wo", 3) == 0 && memcmp(b2, "rld\n", 4) == 0, "\" wo\" \"rld\\n\"");
  check("fd_read at EOF", __wasi_fd_read(fd, &iov, 1, &n), 0);
  check("fd_read at EOF count 0", n, 0);
  __wasi_iovec_t piov = {(uint8_t *)buf, 5};
  check("fd_pread", __wasi_fd_pread(fd, &piov, 1, 6, &n), 0);
  check_true("fd_pread bytes", n == 5 && memcmp(buf, "world", 5) == 0, "\"world\"");
  __wasi_fd_tell(fd, &pos);
  check("fd_pread leaves offset", (long long)pos, 12);
  check("fd_pread past EOF", __wasi_fd_pread(fd, &piov, 1, 100, &n), 0);
  check("fd_pread past EOF count 0", n, 0);

  long long p;
  check("seek SET", seek(fd, 2, __WASI_WHENCE_SET, &p), 0);
  check("seek SET pos", p, 2);
  check("seek CUR", seek(fd, 3, __WASI_WHENCE_CUR, &p), 0);
  check("seek CUR pos", p, 5);
  check("seek CUR negative", seek(fd, -1, __WASI_WHENCE_CUR, &p), 0);
  check("seek CUR negative pos", p, 4);
  check("seek END", seek(fd, 0, __WASI_WHENCE_END, &p), 0);
  check("seek END pos", p, 12);
  check("seek END -4", seek(fd, -4, __WASI_WHENCE_END, &p), 0);
  check("seek END -4 pos", p, 8);
  check("seek past end allowed", seek(fd, 100, __WASI_WHENCE_END, &p), 0);
  check("seek past end pos", p, 112);
  check("seek negative result INVAL", seek(fd, -1, __WASI_WHENCE_SET, &p), __WASI_ERRNO_INVAL);
  check("seek END negative result INVAL", seek(fd, -13, __WASI_WHENCE_END, &p), __WASI_ERRNO_INVAL);
  __wasi_fd_tell(fd, &pos);
  check("failed seek leaves offset", (long long)pos, 112);
  check("seek bad whence INVAL", seek(fd, 0, 3, &p), __WASI_ERRNO_INVAL);
  check("seek bad fd BADF", seek(99, 0, __WASI_WHENCE_SET, &p), __WASI_ERRNO_BADF);

  /* writes */
  int w;
  check("create out.txt", open_at(dir, 0, "out.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RIGHTS_RW, 0, &w), 0);
  __wasi_ciovec_t wv[2] = {{(const uint8_t *)"abc", 3}, {(const uint8_t *)"defg", 4}};
  check("fd_write gather", __wasi_fd_write(w, wv, 2, &n), 0);
  check("fd_write count", n, 7);
  __wasi_ciovec_t pv = {(const uint8_t *)"XY", 2};
  check("fd_pwrite", __wasi_fd_pwrite(w, &pv, 1, 1, &n), 0);
  check("fd_pwrite count", n, 2);
  __wasi_fd_tell(w, &pos);
  check("fd_pwrite leaves offset", (long long)pos, 7);
  check("fd_pwrite past end", __wasi_fd_pwrite(w, &pv, 1, 10, &n), 0);
  __wasi_filestat_t st;
  __wasi_fd_filestat_get(w, &st);
  check("size after pwrite past end", (long long)st.size, 12);
  char got[32] = {0};
  __wasi_iovec_t gv = {(uint8_t *)got, sizeof got};
  check("fd_pread back", __wasi_fd_pread(w, &gv, 1, 0, &n), 0);
  check_true("contents", n == 12 && memcmp(got, "aXYdefg\0\0\0XY", 12) == 0, "aXYdefg\\0\\0\\0XY");
  check("fd_write to read-only fd", __wasi_fd_write(fd, wv, 1, &n) != 0, 1);
  check("fd_read on directory", __wasi_fd_read(dir, &iov, 1, &n) != 0, 1);

  /* renumber */
  int r;
  check("open hello.txt again", open_at(dir, 0, "hello.txt", 0, RIGHTS_RO, 0, &r), 0);
  check("fd_renumber", __wasi_fd_renumber(r, w), 0);
  iov.buf_len = 5;
  check("renumbered fd reads the moved file", __wasi_fd_read(w, &iov, 1, &n), 0);
  check_true("renumbered contents", n == 5 && memcmp(buf, "hello", 5) == 0, "\"hello\"");
  check("old fd gone after renumber", __wasi_fd_close(r), __WASI_ERRNO_BADF);
  check("renumber from bad fd BADF", __wasi_fd_renumber(99, w), __WASI_ERRNO_BADF);
  check("renumber to bad fd BADF", __wasi_fd_renumber(w, 99), __WASI_ERRNO_BADF);

  check("fd_close", __wasi_fd_close(fd), 0);
  check("fd_close twice BADF", __wasi_fd_close(fd), __WASI_ERRNO_BADF);
  check("fd_read closed BADF", __wasi_fd_read(fd, &iov, 1, &n), __WASI_ERRNO_BADF);
  check("fd_write closed BADF", __wasi_fd_write(fd, wv, 1, &n), __WASI_ERRNO_BADF);
  check("fd_tell closed BADF", __wasi_fd_tell(fd, &pos), __WASI_ERRNO_BADF);
  check("fd_close w", __wasi_fd_close(w), 0);

  /* stdio (flush libc's buffer first so the lines stay in order) */
  fflush(stdout);
  __wasi_ciovec_t sv = {(const uint8_t *)"stdout via fd_write\n", 20};
  check("fd_write stdout", __wasi_fd_write(1, &sv, 1, &n), 0);
  check("fd_write stdout count", n, 20);
  return conf_finish();
}
