/* path_create_directory/remove_directory/unlink_file/rename/link/symlink/readlink and path_open's
 * errors: dangling symlinks, O_NOFOLLOW, O_DIRECTORY/O_EXCL/O_TRUNC/O_CREAT, NUL bytes, escapes. */
#include "conf.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define E(x) __WASI_ERRNO_##x
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

int main(void) {
  int dir = preopen_fd("/data");
  int fd;
  __wasi_filestat_t st;
  char buf[64];

  /* directories */
  check("mkdir", __wasi_path_create_directory(dir, "d1"), 0);
  check("mkdir existing EXIST", __wasi_path_create_directory(dir, "d1"), E(EXIST));
  check("mkdir over file EXIST", __wasi_path_create_directory(dir, "hello.txt"), E(EXIST));
  check("mkdir missing parent NOENT", __wasi_path_create_directory(dir, "nope/d"), E(NOENT));
  check("mkdir nested", __wasi_path_create_directory(dir, "d1/d2"), 0);
  check("rmdir non-empty NOTEMPTY", __wasi_path_remove_directory(dir, "d1"), E(NOTEMPTY));
  check("rmdir file NOTDIR", __wasi_path_remove_directory(dir, "hello.txt"), E(NOTDIR));
  check("rmdir missing NOENT", __wasi_path_remove_directory(dir, "missing"), E(NOENT));
  check("rmdir nested", __wasi_path_remove_directory(dir, "d1/d2"), 0);
  check("rmdir", __wasi_path_remove_directory(dir, "d1"), 0);
  check("rmdir gone", __wasi_path_filestat_get(dir, 0, "d1", &st), E(NOENT));

  /* unlink */
  put_file(dir, "u.txt", "u");
  check("unlink", __wasi_path_unlink_file(dir, "u.txt"), 0);
  check("unlink missing NOENT", __wasi_path_unlink_file(dir, "u.txt"), E(NOENT));
  check2("unlink dir ISDIR or PERM", __wasi_path_unlink_file(dir, "empty"), E(ISDIR), E(PERM));
  check("unlink file/ NOTDIR", __wasi_path_unlink_file(dir, "hello.txt/"), E(NOTDIR));
  put_file(dir, "sl-target", "t");
  __wasi_path_symlink("sl-target", dir, "sl");
  check("unlink symlink", __wasi_path_unlink_file(dir, "sl"), 0);
  check("unlink symlink keeps target", __wasi_path_filestat_get(dir, 0, "sl-target", &st), 0);

  /* rename */
  put_file(dir, "r1", "first");
  put_file(dir, "r2", "second");
  check("rename", __wasi_path_rename(dir, "r1", dir, "r3"), 0);
  check("rename source gone", __wasi_path_filestat_get(dir, 0, "r1", &st), E(NOENT));
  check("rename over existing file", __wasi_path_rename(dir, "r3", dir, "r2"), 0);
  get_file(dir, "r2", buf, sizeof buf);
  check_str("rename replaced contents", buf, "first");
  check("rename missing NOENT", __wasi_path_rename(dir, "r1", dir, "r4"), E(NOENT));
  __wasi_path_create_directory(dir, "rd");
  put_file(dir, "rd/f", "f");
  check("rename file over dir ISDIR", __wasi_path_rename(dir, "r2", dir, "rd"), E(ISDIR));
  check("rename dir over file NOTDIR", __wasi_path_rename(dir, "rd", dir, "r2"), E(NOTDIR));
  check2("rename dir over non-empty dir NOTEMPTY", __wasi_path_rename(dir, "empty", dir, "rd"), E(NOTEMPTY), E(EXIST));
  __wasi_path_create_directory(dir, "rd2");
  check("rename dir over empty dir", __wasi_path_rename(dir, "rd", dir, "rd2"), 0);
  check("renamed dir keeps contents", __wasi_path_filestat_get(dir, 0, "rd2/f", &st), 0);
  check("rename dir into itself INVAL", __wasi_path_rename(dir, "rd2", dir, "rd2/x"), E(INVAL));

  /* hard links */
  check("link", __wasi_path_link(dir, 0, "hello.txt", dir, "hard"), 0);
  __wasi_path_filestat_get(dir, 0, "hard", &st);
  check("link nlink 2", (long long)st.nlink, 2);
  check("link onto existing EXIST", __wasi_path_link(dir, 0, "hello.txt", dir, "hard"), E(EXIST));
  check("link missing NOENT", __wasi_path_link(dir, 0, "missing", dir, "hard2"), E(NOENT));
  check2("link a directory PERM", __wasi_path_link(dir, 0, "sub", dir, "subl"), E(PERM), E(ACCES));

  /* symlinks and readlink */
  check("symlink", __wasi_path_symlink("target-name", dir, "sym"), 0);
  check("symlink existing EXIST", __wasi_path_symlink("x", dir, "sym"), E(EXIST));
  __wasi_size_t used = 0;
  memset(buf, 0, sizeof buf);
  check("readlink", __wasi_path_readlink(dir, "sym", (uint8_t *)buf, sizeof buf, &used), 0);
  check("readlink length", used, 11);
  check_str("readlink contents", buf, "target-name");
  memset(buf, 0, sizeof buf);
  check("readlink short buffer succeeds", __wasi_path_readlink(dir, "sym", (uint8_t *)buf, 4, &used), 0);
  check("readlink short buffer truncates to buf_len", used, 4);
  check_str("readlink short buffer contents", buf, "targ");
  check("readlink non-link INVAL", __wasi_path_readlink(dir, "hello.txt", (uint8_t *)buf, sizeof buf, &used), E(INVAL));
  check("readlink missing NOENT", __wasi_path_readlink(dir, "missing", (uint8_t *)buf, sizeof buf, &used), E(NOENT));
  check("readlink dangling", __wasi_path_readlink(dir, "dangling", (uint8_t *)buf, sizeof buf, &used), 0);
  ssize_t ln = readlink("/data/link-hello", buf, 3);
  check("libc readlink short buffer", (long long)ln, 3);

  /* dangling symlinks and O_NOFOLLOW */
  check("open dangling follow NOENT", open_at(dir, FOLLOW, "dangling", 0, RIGHTS_RO, 0, &fd), E(NOENT));
  check("open dangling nofollow LOOP", open_at(dir, 0, "dangling", 0, RIGHTS_RO, 0, &fd), E(LOOP));
  check2("open dangling nofollow O_DIRECTORY", open_at(dir, 0, "dangling", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), E(NOTDIR), E(LOOP));
  check("open file link nofollow LOOP", open_at(dir, 0, "link-hello", 0, RIGHTS_RO, 0, &fd), E(LOOP));
  check("open file link follow", open_at(dir, FOLLOW, "link-hello", 0, RIGHTS_RO, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);
  check2("open dir link nofollow O_DIRECTORY", open_at(dir, 0, "link-sub", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), E(LOOP), E(NOTDIR));
  check("open dir link nofollow LOOP", open_at(dir, 0, "link-sub", 0, RIGHTS_DIR, 0, &fd), E(LOOP));
  check("open dir link follow O_DIRECTORY", open_at(dir, FOLLOW, "link-sub", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);
  check("open through dir link", open_at(dir, 0, "link-sub/a", 0, RIGHTS_RO, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);
  check("O_CREAT through dangling follow creates target", open_at(dir, FOLLOW, "dangling", __WASI_OFLAGS_CREAT, RIGHTS_RW, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);
  check("dangling target now exists", __wasi_path_filestat_get(dir, 0, "nowhere", &st), 0);
  int lfd = open("/data/link-hello", O_RDONLY | O_NOFOLLOW);
  check("libc open O_NOFOLLOW on link ELOOP", lfd < 0 ? errno : 0, ELOOP);

  /* oflags */
  check("O_DIRECTORY on file NOTDIR", open_at(dir, 0, "hello.txt", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), E(NOTDIR));
  check("O_DIRECTORY missing NOENT", open_at(dir, 0, "missing", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), E(NOENT));
  check("O_CREAT|O_EXCL existing EXIST", open_at(dir, 0, "hello.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RIGHTS_RW, 0, &fd), E(EXIST));
  check("O_CREAT|O_EXCL on dir EXIST", open_at(dir, 0, "sub", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RIGHTS_RW, 0, &fd), E(EXIST));
  check("open missing NOENT", open_at(dir, 0, "missing", 0, RIGHTS_RO, 0, &fd), E(NOENT));
  check("open missing parent NOENT", open_at(dir, 0, "nope/x", __WASI_OFLAGS_CREAT, RIGHTS_RW, 0, &fd), E(NOENT));
  check("open file as parent NOTDIR", open_at(dir, 0, "hello.txt/x", 0, RIGHTS_RO, 0, &fd), E(NOTDIR));
  check("open file/ NOTDIR", open_at(dir, 0, "hello.txt/", 0, RIGHTS_RO, 0, &fd), E(NOTDIR));
  check("open dir for write ISDIR", open_at(dir, 0, "sub", 0, RIGHTS_RW, 0, &fd), E(ISDIR));
  check("O_TRUNC on dir ISDIR", open_at(dir, 0, "sub", __WASI_OFLAGS_TRUNC, RIGHTS_RW, 0, &fd), E(ISDIR));
  check("O_CREAT on existing dir ISDIR", open_at(dir, 0, "sub", __WASI_OFLAGS_CREAT, RIGHTS_RW, 0, &fd), E(ISDIR));
  put_file(dir, "t.txt", "0123456789");
  check("O_TRUNC", open_at(dir, 0, "t.txt", __WASI_OFLAGS_TRUNC, RIGHTS_RW, 0, &fd), 0);
  __wasi_fd_filestat_get(fd, &st);
  check("O_TRUNC empties", (long long)st.size, 0);
  __wasi_fd_close(fd);
  check("O_CREAT new", open_at(dir, 0, "new.txt", __WASI_OFLAGS_CREAT, RIGHTS_RW, 0, &fd), 0);
  __wasi_fd_filestat_get(fd, &st);
  check("O_CREAT new is empty file", (long long)st.size, 0);
  __wasi_fd_close(fd);
  check("open '.' is the dir", open_at(dir, 0, ".", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);
  check("open sub/.. stays inside", open_at(dir, 0, "sub/..", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);

  /* NUL bytes: the path is (ptr, len) in WASI; a NUL inside it is invalid */
  check("path with trailing NUL INVAL", raw_path_open(dir, 0, "hello.txt\0", 10, 0, RIGHTS_RO, RIGHTS_RO, 0, &fd), E(INVAL));
  check("path with inner NUL INVAL", raw_path_open(dir, 0, "hello\0.txt", 10, 0, RIGHTS_RO, RIGHTS_RO, 0, &fd), E(INVAL));
  check("filestat path with trailing NUL INVAL", raw_path_filestat_get(dir, 0, "hello.txt\0", 10, &st), E(INVAL));
  check("mkdir path with trailing NUL INVAL", raw_path_create_directory(dir, "zz\0", 3), E(INVAL));
  check("raw open exact length", raw_path_open(dir, 0, "hello.txtXXX", 9, 0, RIGHTS_RO, RIGHTS_RO, 0, &fd), 0);
  if (fd >= 0) __wasi_fd_close(fd);

  /* sandbox: nothing above the preopen */
  check2("open .. escape", open_at(dir, 0, "..", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd), E(NOTCAPABLE), E(PERM));
  check2("open sub/../.. escape", open_at(dir, 0, "sub/../../x", 0, RIGHTS_RO, 0, &fd), E(NOTCAPABLE), E(PERM));
  check2("open absolute path", open_at(dir, 0, "/etc/passwd", 0, RIGHTS_RO, 0, &fd), E(NOTCAPABLE), E(PERM));
  check2("open through escaping symlink", open_at(dir, FOLLOW, "escape", 0, RIGHTS_RO, 0, &fd), E(NOTCAPABLE), E(PERM));
  check2("mkdir .. escape", __wasi_path_create_directory(dir, "../evil"), E(NOTCAPABLE), E(PERM));
  check2("filestat .. escape", __wasi_path_filestat_get(dir, 0, "..", &st), E(NOTCAPABLE), E(PERM));
  check2("rename to .. escape", __wasi_path_rename(dir, "new.txt", dir, "../stolen"), E(NOTCAPABLE), E(PERM));
  check("path_open bad dir fd BADF", open_at(3 + 100, 0, "x", 0, RIGHTS_RO, 0, &fd), E(BADF));
  int f2;
  open_at(dir, 0, "hello.txt", 0, RIGHTS_RO, 0, &f2);
  check("path_open relative to a file NOTDIR", open_at(f2, 0, "x", 0, RIGHTS_RO, 0, &fd), E(NOTDIR));
  return conf_finish();
}
