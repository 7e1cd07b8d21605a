/* random_get: zero length, content, distinct draws; libc getentropy. */
#include "conf.h"
#include <unistd.h>

int main(void) {
  uint8_t a[64], b[64];
  check("random_get zero length", __wasi_random_get(a, 0), 0);
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  check("random_get 64", __wasi_random_get(a, sizeof a), 0);
  check("random_get 64 again", __wasi_random_get(b, sizeof b), 0);
  int nonzero = 0;
  for (size_t i = 0; i < sizeof a; i++) nonzero += a[i] != 0;
  check_true("random bytes not all zero", nonzero > 0, "non-zero bytes");
  check_true("two draws differ", memcmp(a, b, sizeof a) != 0, "different bytes");
  static uint8_t big[65536];
  check("random_get 64 KiB", __wasi_random_get(big, sizeof big), 0);
  uint8_t c[32];
  check("libc getentropy", getentropy(c, sizeof c), 0);
  return conf_finish();
}
