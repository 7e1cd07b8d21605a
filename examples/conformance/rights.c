/* Rights: fd_fdstat_set_rights drops rights and never adds them back; then every call fails
 * NOTCAPABLE without the right the preview1 witx says it needs, and leaves things as they were.
 * Each check opens a fresh fd with the rights it needs and drops that one (for fd_tell also FD_SEEK,
 * which implies FD_TELL). */
#include "conf.h"

static int data;

/* Drops `drop` from what fd holds (a host may have given it fewer rights than asked for). */
static void drop_rights(int fd, __wasi_rights_t drop) {
  __wasi_fdstat_t fs;
  __wasi_fd_fdstat_get(fd, &fs);
  __wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base & ~drop, fs.fs_rights_inheriting);
}

/* A fresh fd on hello.txt opened with RIGHTS_RW, less `drop`. */
static int file_without(__wasi_rights_t drop) {
  int fd;
  open_at(data, 0, "hello.txt", 0, RIGHTS_RW, 0, &fd);
  drop_rights(fd, drop);
  return fd;
}

/* A fresh fd on /data itself opened with RIGHTS_DIR, passing on RIGHTS_DIR | RIGHTS_RW, less `drop`. */
static int dir_without(__wasi_rights_t drop) {
  __wasi_fd_t fd = (__wasi_fd_t)-1;
  __wasi_path_open(data, 0, ".", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, RIGHTS_DIR | RIGHTS_RW, 0, &fd);
  drop_rights((int)fd, drop);
  return (int)fd;
}

/* poll_oneoff with one FD_READ subscription on fd: the call's errno, else the event's. */
static int poll_read(int fd) {
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.u.tag = __WASI_EVENTTYPE_FD_READ;
  sub.u.u.fd_read.file_descriptor = fd;
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  int e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
  return e != 0 ? e : n != 1 ? -1 : ev.error;
}

static int exists(const char *path) {
  __wasi_filestat_t st;
  return __wasi_path_filestat_get(data, 0, path, &st) == 0;
}

#define NOTCAPABLE __WASI_ERRNO_NOTCAPABLE
#define R(name) __WASI_RIGHTS_##name

int main(void) {
  data = preopen_fd("/data");
  uint8_t buf[8];
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
  __wasi_size_t n;
  __wasi_filesize_t pos;
  __wasi_filestat_t st;
  __wasi_fdstat_t fs;
  int fd;

  /* fd_fdstat_set_rights: only ever fewer. */
  open_at(data, 0, "hello.txt", 0, RIGHTS_RW, 0, &fd);
  __wasi_fd_fdstat_get(fd, &fs);
  __wasi_rights_t fewer = fs.fs_rights_base & ~R(FD_READ);
  check("set_rights drops FD_READ", __wasi_fd_fdstat_set_rights(fd, fewer, 0), 0);
  __wasi_fd_fdstat_get(fd, &fs);
  check("FD_READ gone", (long long)(fs.fs_rights_base & R(FD_READ)), 0);
  check("set_rights adding FD_READ back NOTCAPABLE", __wasi_fd_fdstat_set_rights(fd, fewer | R(FD_READ), 0), NOTCAPABLE);
  check("set_rights adding inheriting NOTCAPABLE", __wasi_fd_fdstat_set_rights(fd, fewer, R(FD_READ)), NOTCAPABLE);
  __wasi_fd_fdstat_get(fd, &fs);
  check_true("a refused set_rights changes nothing", fs.fs_rights_base == fewer && fs.fs_rights_inheriting == 0, "the rights dropped to, nothing inherited");
  check("set_rights to the same rights", __wasi_fd_fdstat_set_rights(fd, fewer, 0), 0);
  check("fd_read without FD_READ", __wasi_fd_read(fd, &iov, 1, &n), NOTCAPABLE);
  int other = file_without(0);
  check("fd_renumber onto an fd with every right", __wasi_fd_renumber(fd, other), 0);
  check("fd_read without FD_READ after renumber", __wasi_fd_read(other, &iov, 1, &n), NOTCAPABLE);
  __wasi_fd_close(other);

  /* fd_* calls on a file. */
  fd = file_without(R(FD_WRITE));
  check("fd_write without FD_WRITE", __wasi_fd_write(fd, &ciov, 1, &n), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_SEEK));
  check("fd_seek without FD_SEEK", __wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), NOTCAPABLE);
  check("fd_seek CUR 0 with only FD_TELL", __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos), 0);
  check("fd_pread without FD_SEEK", __wasi_fd_pread(fd, &iov, 1, 0, &n), NOTCAPABLE);
  check("fd_pwrite without FD_SEEK", __wasi_fd_pwrite(fd, &ciov, 1, 0, &n), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_READ));
  check("fd_pread without FD_READ", __wasi_fd_pread(fd, &iov, 1, 0, &n), NOTCAPABLE);
  check("poll_oneoff FD_READ without FD_READ", poll_read(fd), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_WRITE));
  check("fd_pwrite without FD_WRITE", __wasi_fd_pwrite(fd, &ciov, 1, 0, &n), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_TELL));
  check("fd_tell with FD_SEEK (which implies FD_TELL)", __wasi_fd_tell(fd, &pos), 0);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_TELL) | R(FD_SEEK));
  check("fd_tell without FD_TELL", __wasi_fd_tell(fd, &pos), NOTCAPABLE);
  check("fd_seek CUR 0 without FD_TELL", __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_FILESTAT_GET));
  check("fd_filestat_get without FD_FILESTAT_GET", __wasi_fd_filestat_get(fd, &st), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_FILESTAT_SET_SIZE));
  check("fd_filestat_set_size without FD_FILESTAT_SET_SIZE", __wasi_fd_filestat_set_size(fd, 0), NOTCAPABLE);
  __wasi_fd_close(fd);
  check("file size unchanged", __wasi_path_filestat_get(data, 0, "hello.txt", &st) == 0 ? (long long)st.size : -1, 12);
  fd = file_without(R(FD_FILESTAT_SET_TIMES));
  check("fd_filestat_set_times without FD_FILESTAT_SET_TIMES", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_FDSTAT_SET_FLAGS));
  check("fd_fdstat_set_flags without FD_FDSTAT_SET_FLAGS", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_ADVISE));
  check("fd_advise without FD_ADVISE", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_NORMAL), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_ALLOCATE));
  check("fd_allocate without FD_ALLOCATE", __wasi_fd_allocate(fd, 0, 100), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_SYNC));
  check("fd_sync without FD_SYNC", __wasi_fd_sync(fd), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(FD_DATASYNC));
  check("fd_datasync without FD_DATASYNC", __wasi_fd_datasync(fd), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = file_without(R(POLL_FD_READWRITE));
  check("poll_oneoff FD_READ without POLL_FD_READWRITE", poll_read(fd), NOTCAPABLE);
  __wasi_fd_close(fd);

  /* Calls on a directory. */
  fd = dir_without(R(FD_READDIR));
  __wasi_size_t used;
  uint8_t dirbuf[256];
  check("fd_readdir without FD_READDIR", __wasi_fd_readdir(fd, dirbuf, sizeof dirbuf, 0, &used), NOTCAPABLE);
  __wasi_fd_close(fd);
  int f2;
  fd = dir_without(R(PATH_OPEN));
  check("path_open without PATH_OPEN", open_at(fd, 0, "hello.txt", 0, RIGHTS_RO, 0, &f2), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_CREATE_FILE));
  check("path_open O_CREAT without PATH_CREATE_FILE", open_at(fd, 0, "created.txt", __WASI_OFLAGS_CREAT, RIGHTS_RW, 0, &f2), NOTCAPABLE);
  check_true("no file created", !exists("created.txt"), "no created.txt");
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_FILESTAT_SET_SIZE));
  check("path_open O_TRUNC without PATH_FILESTAT_SET_SIZE", open_at(fd, 0, "hello.txt", __WASI_OFLAGS_TRUNC, RIGHTS_RW, 0, &f2), NOTCAPABLE);
  __wasi_fd_close(fd);
  check("file not truncated", __wasi_path_filestat_get(data, 0, "hello.txt", &st) == 0 ? (long long)st.size : -1, 12);
  fd = dir_without(0);
  __wasi_fd_fdstat_get(fd, &fs);
  __wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base, RIGHTS_RO);
  check("path_open asking more than the directory passes on", open_at(fd, 0, "hello.txt", 0, RIGHTS_RW, 0, &f2), NOTCAPABLE);
  check("path_open asking what the directory passes on", open_at(fd, 0, "hello.txt", 0, RIGHTS_RO, 0, &f2), 0);
  __wasi_fd_close(f2);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_CREATE_DIRECTORY));
  check("path_create_directory without PATH_CREATE_DIRECTORY", __wasi_path_create_directory(fd, "newdir"), NOTCAPABLE);
  check_true("no directory created", !exists("newdir"), "no newdir");
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_FILESTAT_GET));
  check("path_filestat_get without PATH_FILESTAT_GET", __wasi_path_filestat_get(fd, 0, "hello.txt", &st), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_FILESTAT_SET_TIMES));
  check("path_filestat_set_times without PATH_FILESTAT_SET_TIMES", __wasi_path_filestat_set_times(fd, 0, "hello.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_READLINK));
  char target[32];
  check("path_readlink without PATH_READLINK", __wasi_path_readlink(fd, "link-hello", (uint8_t *)target, sizeof target, &used), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_REMOVE_DIRECTORY));
  check("path_remove_directory without PATH_REMOVE_DIRECTORY", __wasi_path_remove_directory(fd, "empty"), NOTCAPABLE);
  check_true("directory still there", exists("empty"), "empty/");
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_UNLINK_FILE));
  check("path_unlink_file without PATH_UNLINK_FILE", __wasi_path_unlink_file(fd, "hello.txt"), NOTCAPABLE);
  check_true("file still there", exists("hello.txt"), "hello.txt");
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_SYMLINK));
  check("path_symlink without PATH_SYMLINK", __wasi_path_symlink("hello.txt", fd, "new-link"), NOTCAPABLE);
  check_true("no symlink created", !exists("new-link"), "no new-link");
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_RENAME_SOURCE));
  check("path_rename without PATH_RENAME_SOURCE", __wasi_path_rename(fd, "hello.txt", data, "renamed.txt"), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_RENAME_TARGET));
  check("path_rename without PATH_RENAME_TARGET", __wasi_path_rename(data, "hello.txt", fd, "renamed.txt"), NOTCAPABLE);
  __wasi_fd_close(fd);
  check_true("nothing renamed", exists("hello.txt") && !exists("renamed.txt"), "hello.txt, no renamed.txt");
  fd = dir_without(R(PATH_LINK_SOURCE));
  check("path_link without PATH_LINK_SOURCE", __wasi_path_link(fd, 0, "hello.txt", data, "hard.txt"), NOTCAPABLE);
  __wasi_fd_close(fd);
  fd = dir_without(R(PATH_LINK_TARGET));
  check("path_link without PATH_LINK_TARGET", __wasi_path_link(data, 0, "hello.txt", fd, "hard.txt"), NOTCAPABLE);
  __wasi_fd_close(fd);
  check_true("no link made", !exists("hard.txt"), "no hard.txt");
  return conf_finish();
}
