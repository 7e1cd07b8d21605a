// httpcounter: an accept-loop HTTP/1.0 server on the listening socket wmig pre-opens
// (`wmig run --listen HOST:PORT`, like wasmtime's --tcplisten). It keeps a request counter in memory
// and answers every request with "request N". Frozen between connections and thawed on another
// port (`wmig thaw --listen HOST:PORT2`), it keeps counting where it stopped.
//
// Debian's wasi-libc has no accept(), so the WASI socket calls are used directly.
//
// Usage: httpcounter [MAX]   (exits after MAX requests; 0 or none = forever)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include <wmig-listener.h>

int main(int argc, char **argv) {
  long max = argc > 1 ? atol(argv[1]) : 0;
  int lfd = find_listener();
  if (lfd < 0) {
    fprintf(stderr, "httpcounter: no listening socket (run with --listen HOST:PORT)\n");
    return 2;
  }
  unsigned long count = 0;
  printf("httpcounter: listening on fd %d\n", lfd);
  fflush(stdout);
  for (;;) {
    __wasi_fd_t c;
    __wasi_errno_t e = __wasi_sock_accept(lfd, 0, &c);
    if (e != 0) {
      fprintf(stderr, "httpcounter: sock_accept: errno %d\n", e);
      return 1;
    }
    char buf[4096];
    size_t have = 0;
    while (have < sizeof buf - 1) {
      __wasi_iovec_t iov = {(uint8_t *)buf + have, sizeof buf - 1 - have};
      __wasi_size_t n = 0;
      __wasi_roflags_t flags = 0;
      if (__wasi_sock_recv(c, &iov, 1, 0, &n, &flags) != 0 || n == 0) break;
      have += n;
      buf[have] = 0;
      if (strstr(buf, "\r\n\r\n") != NULL) break;
    }
    count++;
    char body[64];
    int blen = snprintf(body, sizeof body, "request %lu\n", count);
    char resp[256];
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                        blen, body);
    __wasi_ciovec_t out = {(const uint8_t *)resp, (size_t)rlen};
    __wasi_size_t sent = 0;
    if (__wasi_sock_send(c, &out, 1, 0, &sent) != 0) fprintf(stderr, "httpcounter: sock_send failed\n");
    (void)__wasi_sock_shutdown(c, __WASI_SDFLAGS_WR);
    (void)__wasi_fd_close(c);
    printf("served request %lu\n", count);
    fflush(stdout);
    if (max > 0 && count >= (unsigned long)max) return 0;
  }
}
