/* fd_readdir: "." and ".." are listed, cookies resume, small buffers truncate; libc readdir. */
#include "conf.h"
#include <dirent.h>

struct ent { char name[64]; uint8_t type; __wasi_dircookie_t next; };

/* Parses one buffer; returns number of complete entries. */
static int parse(const uint8_t *buf, size_t used, struct ent *out, int max) {
  size_t at = 0;
  int k = 0;
  while (at + sizeof(__wasi_dirent_t) <= used && k < max) {
    __wasi_dirent_t d;
    memcpy(&d, buf + at, sizeof d);
    if (at + sizeof d + d.d_namlen > used) break;
    size_t len = d.d_namlen < 63 ? d.d_namlen : 63;
    memcpy(out[k].name, buf + at + sizeof d, len);
    out[k].name[len] = 0;
    out[k].type = d.d_type;
    out[k].next = d.d_next;
    k++;
    at += sizeof d + d.d_namlen;
  }
  return k;
}

static int find(struct ent *e, int n, const char *name) {
  for (int i = 0; i < n; i++) if (strcmp(e[i].name, name) == 0) return i;
  return -1;
}

int main(void) {
  int dir = preopen_fd("/data");
  int sub;
  check("open sub", open_at(dir, 0, "sub", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &sub), 0);
  static uint8_t buf[4096];
  __wasi_size_t used = 0;
  check("fd_readdir", __wasi_fd_readdir(sub, buf, sizeof buf, 0, &used), 0);
  struct ent e[16];
  int n = parse(buf, used, e, 16);
  check("entry count incl . and ..", n, 5);
  check_true("has .", find(e, n, ".") >= 0, "an entry \".\"");
  check_true("has ..", find(e, n, "..") >= 0, "an entry \"..\"");
  check_true("has a b c", find(e, n, "a") >= 0 && find(e, n, "b") >= 0 && find(e, n, "c") >= 0, "a, b and c");
  int ia = find(e, n, "a");
  check("a is REGULAR_FILE", ia >= 0 ? e[ia].type : -1, __WASI_FILETYPE_REGULAR_FILE);
  int idot = find(e, n, ".");
  check(". is DIRECTORY", idot >= 0 ? e[idot].type : -1, __WASI_FILETYPE_DIRECTORY);
  check_true("buffer not full means end", used < sizeof buf, "used < buf_len");

  /* resume from each entry's cookie: the rest follows */
  int resumed_ok = 1;
  for (int i = 0; i < n; i++) {
    __wasi_size_t u2 = 0;
    static uint8_t b2[4096];
    __wasi_fd_readdir(sub, b2, sizeof b2, e[i].next, &u2);
    struct ent r[16];
    int m = parse(b2, u2, r, 16);
    if (m != n - i - 1) resumed_ok = 0;
    for (int j = 0; j < m && resumed_ok; j++) if (strcmp(r[j].name, e[i + 1 + j].name) != 0) resumed_ok = 0;
  }
  check_true("cookies resume after each entry", resumed_ok, "the remaining entries");
  check("readdir past end", __wasi_fd_readdir(sub, buf, sizeof buf, e[n - 1].next, &used), 0);
  check("readdir past end is empty", used, 0);

  /* a buffer too small for even one entry: filled completely (truncated entry) */
  uint8_t tiny[30];
  check("fd_readdir tiny buffer", __wasi_fd_readdir(sub, tiny, sizeof tiny, 0, &used), 0);
  check("tiny buffer used == buf_len", used, sizeof tiny);
  /* walk with a 40-byte buffer, one entry at a time, via cookies */
  int walked = 0;
  __wasi_dircookie_t cookie = 0;
  uint8_t small[40];
  for (int guard = 0; guard < 20; guard++) {
    if (__wasi_fd_readdir(sub, small, sizeof small, cookie, &used) != 0) break;
    struct ent r[2];
    int m = parse(small, used, r, 2);
    if (m == 0) break;
    walked += m;
    cookie = r[m - 1].next;
  }
  check("small-buffer walk sees every entry", walked, 5);

  int empty;
  open_at(dir, 0, "empty", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &empty);
  __wasi_fd_readdir(empty, buf, sizeof buf, 0, &used);
  n = parse(buf, used, e, 16);
  check("empty dir lists . and ..", n, 2);

  /* the preopen lists symlinks as symlinks */
  __wasi_fd_readdir(dir, buf, sizeof buf, 0, &used);
  n = parse(buf, used, e, 16);
  int il = find(e, n, "link-hello");
  check("link-hello is SYMBOLIC_LINK", il >= 0 ? e[il].type : -1, __WASI_FILETYPE_SYMBOLIC_LINK);
  int isub = find(e, n, "sub");
  check("sub is DIRECTORY", isub >= 0 ? e[isub].type : -1, __WASI_FILETYPE_DIRECTORY);

  int file;
  open_at(dir, 0, "hello.txt", 0, RIGHTS_RO | __WASI_RIGHTS_FD_READDIR, 0, &file);
  check2("fd_readdir on a file NOTDIR", __wasi_fd_readdir(file, buf, sizeof buf, 0, &used), __WASI_ERRNO_NOTDIR, __WASI_ERRNO_BADF);
  check("fd_readdir bad fd BADF", __wasi_fd_readdir(99, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF);

  /* libc: what programs do */
  DIR *d = opendir("/data/sub");
  check_true("opendir", d != NULL, "a DIR");
  int names = 0, dots = 0;
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) dots++;
    else names++;
  }
  if (d) closedir(d);
  check("libc readdir names", names, 3);
  check("libc readdir . and ..", dots, 2);
  return conf_finish();
}
