// recvall: sock_recv with RECV_WAITALL on connections from the listening socket wmig pre-opens
// (`wmig run --listen HOST:PORT`). For each connection it peeks at a whole LEN-byte message with
// RECV_PEEK|RECV_WAITALL, then takes it with RECV_WAITALL — one call each, however the client
// splits the message — prints both results and answers "got N". At EOF a WAITALL receive returns
// what there is.
//
// Usage: recvall LEN [CONNECTIONS]   (exits after CONNECTIONS connections; default 1)
#include <stdio.h>
#include <stdlib.h>
#include <wasi/api.h>

#include <wmig-listener.h>

// One sock_recv call into buf[0, len); prints "<what> N: <bytes>" and returns N (-1 on error).
static long recv_once(__wasi_fd_t c, char *buf, size_t len, __wasi_riflags_t flags, const char *what) {
  __wasi_iovec_t iov = {(uint8_t *)buf, len};
  __wasi_size_t n = 0;
  __wasi_roflags_t roflags = 0;
  __wasi_errno_t e = __wasi_sock_recv(c, &iov, 1, flags, &n, &roflags);
  if (e != 0) {
    printf("%s: errno %d\n", what, e);
    return -1;
  }
  printf("%s %lu: %.*s\n", what, (unsigned long)n, (int)n, buf);
  fflush(stdout);
  return (long)n;
}

int main(int argc, char **argv) {
  long len = argc > 1 ? atol(argv[1]) : 0;
  long connections = argc > 2 ? atol(argv[2]) : 1;
  int lfd = find_listener();
  if (len <= 0 || len > 4096 || lfd < 0) {
    fprintf(stderr, "usage: recvall LEN [CONNECTIONS], 0 < LEN <= 4096, with --listen HOST:PORT\n");
    return 2;
  }
  printf("recvall: listening on fd %d\n", lfd);
  fflush(stdout);
  static char buf[4096];
  for (long i = 0; i < connections; i++) {
    __wasi_fd_t c;
    if (__wasi_sock_accept(lfd, 0, &c) != 0) return 1;
    recv_once(c, buf, (size_t)len, __WASI_RIFLAGS_RECV_PEEK | __WASI_RIFLAGS_RECV_WAITALL, "peek");
    long n = recv_once(c, buf, (size_t)len, __WASI_RIFLAGS_RECV_WAITALL, "recv");
    char reply[32];
    int rlen = snprintf(reply, sizeof reply, "got %ld\n", n);
    __wasi_ciovec_t out = {(const uint8_t *)reply, (size_t)rlen};
    __wasi_size_t sent = 0;
    (void)__wasi_sock_send(c, &out, 1, 0, &sent);
    (void)__wasi_sock_shutdown(c, __WASI_SDFLAGS_WR);
    (void)__wasi_fd_close(c);
  }
  return 0;
}
