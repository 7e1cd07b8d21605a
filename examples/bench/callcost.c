// callcost: the cost of one WASI call, timed inside the guest (bench/wasi-calls.js).
//
// Usage: callcost KIND ITERATIONS [WARMUP_MS]   (WARMUP_MS defaults to 250)
// KIND is one of
//   fd_write        16 bytes to stdout (fd 1)
//   fd_read         64 bytes from /data/read.bin; at its end one fd_seek back to 0
//   clock_time_get  the monotonic clock
//   path_open       path_open of /data/read.bin then fd_close: one iteration is both calls
//   fd_readdir      all of /data/entries (~20 entries) in one call, from cookie 0
// Each iteration is exactly one raw WASI call (path_open: two), so libc buffering plays no part.
// The same call runs untimed for WARMUP_MS first (the same time for every host, so that a host
// written in JavaScript reaches its optimized code), then ITERATIONS times between two monotonic
// clock reads. The last stdout line is
//   KIND iterations=N ns=ELAPSED checksum=C
// where the checksum folds every result in, so no call can be optimised away.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static uint64_t checksum;

static void check(__wasi_errno_t err, const char *what) {
  if (err != __WASI_ERRNO_SUCCESS) {
    fprintf(stderr, "callcost: %s failed: errno %u\n", what, err);
    exit(1);
  }
}

static uint64_t now_ns(void) {
  __wasi_timestamp_t t;
  check(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t), "clock_time_get");
  return t;
}

static int open_or_die(const char *path, int flags) {
  int fd = open(path, flags);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  return fd;
}

static void loop_fd_write(long n) {
  static const char line[16] = "callcost: write\n"; // 16 bytes, no NUL
  __wasi_ciovec_t iov = {(const uint8_t *)line, sizeof line};
  for (long i = 0; i < n; i++) {
    __wasi_size_t written;
    check(__wasi_fd_write(1, &iov, 1, &written), "fd_write");
    checksum += written;
  }
}

static int read_fd = -1;

static void loop_fd_read(long n) {
  if (read_fd < 0) read_fd = open_or_die("/data/read.bin", O_RDONLY);
  uint8_t buf[64];
  __wasi_iovec_t iov = {buf, sizeof buf};
  for (long i = 0; i < n; i++) {
    __wasi_size_t got;
    check(__wasi_fd_read(read_fd, &iov, 1, &got), "fd_read");
    if (got == 0) {
      __wasi_filesize_t pos;
      check(__wasi_fd_seek(read_fd, 0, __WASI_WHENCE_SET, &pos), "fd_seek");
    }
    checksum += got + (got ? buf[got - 1] : 0);
  }
}

static void loop_clock_time_get(long n) {
  for (long i = 0; i < n; i++) checksum += now_ns() & 0xff;
}

static int data_dir = -1;

static void loop_path_open(long n) {
  if (data_dir < 0) data_dir = open_or_die("/data", O_RDONLY | O_DIRECTORY);
  static const char name[] = "read.bin";
  for (long i = 0; i < n; i++) {
    __wasi_fd_t fd;
    check(__wasi_path_open(data_dir, 0, name, 0 /* no oflags: the file exists */, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, 0, 0, &fd),
          "path_open");
    check(__wasi_fd_close(fd), "fd_close");
    checksum += fd;
  }
}

static int entries_dir = -1;

static void loop_fd_readdir(long n) {
  if (entries_dir < 0) entries_dir = open_or_die("/data/entries", O_RDONLY | O_DIRECTORY);
  static uint8_t buf[4096];
  for (long i = 0; i < n; i++) {
    __wasi_size_t used;
    check(__wasi_fd_readdir(entries_dir, buf, sizeof buf, 0, &used), "fd_readdir");
    if (used == sizeof buf) {
      fprintf(stderr, "callcost: fd_readdir filled its buffer: directory too large\n");
      exit(1);
    }
    checksum += used + buf[used - 1];
  }
}

static const struct {
  const char *name;
  void (*loop)(long);
} kinds[] = {
    {"fd_write", loop_fd_write},       {"fd_read", loop_fd_read},       {"clock_time_get", loop_clock_time_get},
    {"path_open", loop_path_open},     {"fd_readdir", loop_fd_readdir},
};

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: callcost KIND ITERATIONS [WARMUP]\n");
    return 2;
  }
  long n = atol(argv[2]);
  uint64_t warmup_ns = (uint64_t)(argc > 3 ? atol(argv[3]) : 250) * 1000000u;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    if (strcmp(argv[1], kinds[k].name) != 0) continue;
    long batch = n / 100 > 0 ? n / 100 : 1;
    for (uint64_t start = now_ns(); now_ns() - start < warmup_ns;) kinds[k].loop(batch);
    uint64_t t0 = now_ns();
    kinds[k].loop(n);
    uint64_t t1 = now_ns();
    printf("%s iterations=%ld ns=%llu checksum=%llu\n", kinds[k].name, n, (unsigned long long)(t1 - t0),
           (unsigned long long)checksum);
    return 0;
  }
  fprintf(stderr, "callcost: unknown kind %s\n", argv[1]);
  return 2;
}
