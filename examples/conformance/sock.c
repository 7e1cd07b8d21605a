/* sock_* on a bad fd (BADF) and on a non-socket fd (NOTSOCK). No sockets are pre-opened. */
#include "conf.h"

int main(void) {
  int dir = preopen_fd("/data");
  int file;
  open_at(dir, 0, "hello.txt", 0, RIGHTS_RO, 0, &file);
  uint8_t buf[8];
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_ciovec_t ciov = {buf, sizeof buf};
  __wasi_size_t n;
  __wasi_roflags_t rof;
  __wasi_fd_t out;
  check("sock_shutdown bad fd BADF", __wasi_sock_shutdown(77, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF);
  check("sock_shutdown file NOTSOCK", __wasi_sock_shutdown(file, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
  check("sock_shutdown dir NOTSOCK", __wasi_sock_shutdown(dir, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
  check("sock_shutdown stdout NOTSOCK", __wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
  check("sock_recv bad fd BADF", __wasi_sock_recv(77, &iov, 1, 0, &n, &rof), __WASI_ERRNO_BADF);
  check("sock_recv file NOTSOCK", __wasi_sock_recv(file, &iov, 1, 0, &n, &rof), __WASI_ERRNO_NOTSOCK);
  check("sock_send bad fd BADF", __wasi_sock_send(77, &ciov, 1, 0, &n), __WASI_ERRNO_BADF);
  check("sock_send file NOTSOCK", __wasi_sock_send(file, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK);
  check("sock_accept bad fd BADF", __wasi_sock_accept(77, 0, &out), __WASI_ERRNO_BADF);
  check("sock_accept file NOTSOCK", __wasi_sock_accept(file, 0, &out), __WASI_ERRNO_NOTSOCK);
  return conf_finish();
}
