// bulksend: streams MIB MiB to the first client of the listening socket wmig pre-opens
// (`wmig run --listen HOST:PORT`), in sock_send calls of CHUNK KiB, then shuts down and exits. The
// stream is 32-bit little-endian words counting up from 0, so the client can check every byte and
// its place. Against a slow reader the sends must wait (wmig bounds what it buffers); with
// `nonblock` the socket is O_NONBLOCK: a send takes what fits or fails with EAGAIN, and the program
// then waits in poll_oneoff for FD_WRITE — after which a send must not fail with EAGAIN again.
//
// Usage: bulksend MIB [CHUNK_KIB] [nonblock]   (defaults: 8 MiB in 64 KiB sends, blocking)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include <wmig-listener.h>

// Blocks in poll_oneoff until fd is writable; returns the errno of the call or of the event.
static __wasi_errno_t wait_writable(__wasi_fd_t fd) {
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.u.tag = __WASI_EVENTTYPE_FD_WRITE;
  sub.u.u.fd_write.file_descriptor = fd;
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
  return e != 0 ? e : n != 1 ? __WASI_ERRNO_IO : ev.error;
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 8;
  long chunk = (argc > 2 ? atol(argv[2]) : 64) * 1024;
  int nonblock = argc > 3 && strcmp(argv[3], "nonblock") == 0;
  int lfd = find_listener();
  if (mib <= 0 || chunk <= 0 || lfd < 0) {
    fprintf(stderr, "usage: bulksend MIB [CHUNK_KIB] [nonblock], with --listen HOST:PORT\n");
    return 2;
  }
  printf("bulksend: listening on fd %d\n", lfd);
  fflush(stdout);
  __wasi_fd_t c;
  if (__wasi_sock_accept(lfd, 0, &c) != 0) return 1;
  if (nonblock && __wasi_fd_fdstat_set_flags(c, __WASI_FDFLAGS_NONBLOCK) != 0) return 1;

  uint32_t *buf = malloc((size_t)chunk);
  unsigned long total = (unsigned long)mib << 20, sent = 0, word = 0, blocked = 0;
  while (sent < total) {
    size_t len = total - sent < (unsigned long)chunk ? total - sent : (size_t)chunk;
    for (size_t i = 0; i < len / 4; i++) buf[i] = (uint32_t)(word + i);
    // A non-blocking send may take only part of the chunk: send the rest from where it stopped.
    for (size_t at = 0; at < len;) {
      __wasi_ciovec_t iov = {(const uint8_t *)buf + at, len - at};
      __wasi_size_t n = 0;
      __wasi_errno_t e = __wasi_sock_send(c, &iov, 1, 0, &n);
      if (e == __WASI_ERRNO_AGAIN && nonblock) {
        blocked++;
        if ((e = wait_writable(c)) != 0) {
          fprintf(stderr, "bulksend: poll_oneoff: errno %d\n", e);
          return 1;
        }
        iov.buf_len = len - at;
        if ((e = __wasi_sock_send(c, &iov, 1, 0, &n)) == __WASI_ERRNO_AGAIN) {
          fprintf(stderr, "bulksend: EAGAIN right after poll_oneoff reported the socket writable\n");
          return 1;
        }
      }
      if (e != 0) {
        fprintf(stderr, "bulksend: sock_send: errno %d\n", e);
        return 1;
      }
      at += n;
    }
    sent += len;
    word += len / 4;
    if (sent % (1 << 20) == 0) {
      printf("sent %lu MiB\n", sent >> 20);
      fflush(stdout);
    }
  }
  (void)__wasi_sock_shutdown(c, __WASI_SDFLAGS_WR);
  (void)__wasi_fd_close(c);
  if (nonblock) printf("would block: %s\n", blocked > 0 ? "yes" : "no");
  printf("done: %lu bytes\n", sent);
  return 0;
}
