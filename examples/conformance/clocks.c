/* clock_res_get / clock_time_get for every clock id, invalid ids, and libc's clock_gettime. */
#include "conf.h"
#include <time.h>

int main(void) {
  const char *names[] = {"realtime", "monotonic", "process_cputime", "thread_cputime"};
  char label[96];
  for (int id = 0; id < 2; id++) {
    __wasi_timestamp_t res = 0, t = 0;
    snprintf(label, sizeof label, "clock_res_get %s", names[id]);
    check(label, __wasi_clock_res_get(id, &res), 0);
    snprintf(label, sizeof label, "clock_res_get %s positive", names[id]);
    check_true(label, res > 0 && res <= 1000000000ull, "0 < res <= 1s");
    snprintf(label, sizeof label, "clock_time_get %s", names[id]);
    check(label, __wasi_clock_time_get(id, 1, &t), 0);
  }
  /* The cputime clocks are optional in preview1 (wasmtime drops them): success or INVAL. */
  for (int id = 2; id < 4; id++) {
    __wasi_timestamp_t res = 0, t = 0;
    snprintf(label, sizeof label, "clock_res_get %s supported or INVAL", names[id]);
    check2(label, __wasi_clock_res_get(id, &res), 0, __WASI_ERRNO_INVAL);
    snprintf(label, sizeof label, "clock_time_get %s supported or INVAL", names[id]);
    check2(label, __wasi_clock_time_get(id, 1, &t), 0, __WASI_ERRNO_INVAL);
  }
  __wasi_timestamp_t x;
  check("clock_res_get id 4 INVAL", __wasi_clock_res_get(4, &x), __WASI_ERRNO_INVAL);
  check("clock_time_get id 4 INVAL", __wasi_clock_time_get(4, 1, &x), __WASI_ERRNO_INVAL);
  check("clock_time_get id 0xffffffff INVAL", __wasi_clock_time_get(0xffffffffu, 1, &x), __WASI_ERRNO_INVAL);

  __wasi_timestamp_t rt = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &rt);
  check_true("realtime after 2020", rt > 1577836800ull * 1000000000ull, "> 2020-01-01");
  check_true("realtime before 2100", rt < 4102444800ull * 1000000000ull, "< 2100-01-01");

  __wasi_timestamp_t prev = 0;
  int monotone = 1;
  for (int i = 0; i < 20; i++) {
    __wasi_timestamp_t m = 0;
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &m);
    if (m < prev) monotone = 0;
    prev = m;
  }
  check_true("monotonic never goes backwards", monotone, "non-decreasing");

  struct timespec ts;
  check("libc clock_gettime CLOCK_REALTIME", clock_gettime(CLOCK_REALTIME, &ts), 0);
  check_true("libc realtime matches raw", ts.tv_sec >= (time_t)(rt / 1000000000ull) && ts.tv_sec < (time_t)(rt / 1000000000ull) + 60, "within a minute");
  check("libc clock_gettime CLOCK_MONOTONIC", clock_gettime(CLOCK_MONOTONIC, &ts), 0);
  struct timespec sl = {0, 2000000};
  __wasi_timestamp_t before = 0, after = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &before);
  check("libc nanosleep 2ms", nanosleep(&sl, NULL), 0);
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &after);
  check_true("nanosleep slept at least 2ms", after - before >= 2000000ull, ">= 2ms elapsed");
  return conf_finish();
}
