// stdin: state = a partially consumed stdin stream plus running totals.
// Reads fd 0 in 64-byte chunks with raw read(); for each chunk prints its
// size, a running checksum and the chunk upper-cased. A thawed run must
// resume reading exactly where the frozen one stopped.
//
// Usage: stdin < input
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  char buf[64];
  uint32_t sum = 0;
  long total = 0;
  int chunks = 0;

  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) {
      perror("stdin: read");
      return 1;
    }
    if (n == 0) break;  // EOF
    for (ssize_t i = 0; i < n; i++) {
      sum = (sum ^ (uint8_t)buf[i]) * 16777619u;
      if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 'a' - 'A';
    }
    total += n;
    chunks++;
    // One line per chunk; newlines inside the chunk are shown as "\n".
    printf("chunk %d: %zd bytes checksum=%08x: ", chunks, n, sum);
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n')
        fputs("\\n", stdout);
      else
        putchar(buf[i]);
    }
    printf("\n");
    fflush(stdout);
  }
  printf("eof: %d chunks, %ld bytes, checksum=%08x\n", chunks, total, sum);
  fflush(stdout);
  return 0;
}
