/* fd_prestat_get/dir_name, fd_advise, fd_allocate, fd_sync, fd_datasync, sched_yield. */
#include "conf.h"

int main(void) {
  __wasi_prestat_t ps;
  int dir = preopen_fd("/data");
  check("prestat of /data", __wasi_fd_prestat_get(dir, &ps), 0);
  check("prestat tag DIR", ps.tag, __WASI_PREOPENTYPE_DIR);
  check("prestat name len", ps.u.dir.pr_name_len, 5);
  char name[8] = {0};
  check("prestat_dir_name", __wasi_fd_prestat_dir_name(dir, (uint8_t *)name, 5), 0);
  check_str("prestat_dir_name value", name, "/data");
  check("prestat_get bad fd BADF", __wasi_fd_prestat_get(99, &ps), __WASI_ERRNO_BADF);
  check("prestat_get stdout BADF", __wasi_fd_prestat_get(1, &ps), __WASI_ERRNO_BADF);
  int sub;
  open_at(dir, 0, "sub", __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &sub);
  check("prestat_get opened dir BADF", __wasi_fd_prestat_get(sub, &ps), __WASI_ERRNO_BADF);
  check2("prestat_dir_name short buffer", __wasi_fd_prestat_dir_name(dir, (uint8_t *)name, 2), __WASI_ERRNO_NAMETOOLONG, __WASI_ERRNO_INVAL);

  int fd;
  check("create", open_at(dir, 0, "m.bin", __WASI_OFLAGS_CREAT, RIGHTS_RW, 0, &fd), 0);
  check("fd_advise normal", __wasi_fd_advise(fd, 0, 100, __WASI_ADVICE_NORMAL), 0);
  check("fd_advise willneed", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_WILLNEED), 0);
  check("fd_advise bad advice INVAL", __wasi_fd_advise(fd, 0, 0, 6), __WASI_ERRNO_INVAL);
  check("fd_advise bad fd BADF", __wasi_fd_advise(99, 0, 0, 0), __WASI_ERRNO_BADF);
  check2("fd_allocate", __wasi_fd_allocate(fd, 0, 100), 0, __WASI_ERRNO_NOTSUP);
  __wasi_filestat_t st;
  __wasi_fd_filestat_get(fd, &st);
  check_true("fd_allocate size", st.size == 100 || st.size == 0, "100 (or 0 if NOTSUP)");
  check("fd_allocate bad fd BADF", __wasi_fd_allocate(99, 0, 1), __WASI_ERRNO_BADF);
  check("fd_sync", __wasi_fd_sync(fd), 0);
  check("fd_datasync", __wasi_fd_datasync(fd), 0);
  check("fd_sync bad fd BADF", __wasi_fd_sync(99), __WASI_ERRNO_BADF);
  check("fd_datasync bad fd BADF", __wasi_fd_datasync(99), __WASI_ERRNO_BADF);
  check("sched_yield", __wasi_sched_yield(), 0);
  check("fd_close", __wasi_fd_close(fd), 0);
  return conf_finish();
}
