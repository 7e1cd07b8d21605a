/* The listening socket `wmig run --listen HOST:PORT` pre-opens for a wasm32-wasi program: the first
 * fd after the preopens whose type is a stream socket, or -1. Shared by the socket examples. */
#ifndef WMIG_LISTENER_H
#define WMIG_LISTENER_H

#include <wasi/api.h>

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(fd, &st) != 0) continue;
    if (st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM) return fd;
  }
  return -1;
}

#endif
