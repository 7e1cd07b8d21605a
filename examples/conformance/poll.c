/* poll_oneoff: relative and absolute clock timeouts, fd readiness, bad fds, nsubscriptions 0. */
#include "conf.h"

static __wasi_timestamp_t mono(void) {
  __wasi_timestamp_t t = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  return t;
}

static __wasi_subscription_t clock_sub(uint64_t userdata, __wasi_clockid_t id, uint64_t timeout, int abstime) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = userdata;
  s.u.tag = __WASI_EVENTTYPE_CLOCK;
  s.u.u.clock.id = id;
  s.u.u.clock.timeout = timeout;
  s.u.u.clock.precision = 0;
  s.u.u.clock.flags = abstime ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
  return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, int type, int fd) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = userdata;
  s.u.tag = type;
  s.u.u.fd_read.file_descriptor = fd;
  return s;
}

static int by_userdata(__wasi_event_t *ev, int n, uint64_t ud) {
  for (int i = 0; i < n; i++) if (ev[i].userdata == ud) return i;
  return -1;
}

int main(void) {
  __wasi_subscription_t in[4];
  __wasi_event_t ev[4];
  __wasi_size_t n = 0;

  in[0] = clock_sub(42, __WASI_CLOCKID_MONOTONIC, 20000000, 0);
  __wasi_timestamp_t t0 = mono();
  check("poll relative 20ms", __wasi_poll_oneoff(in, ev, 1, &n), 0);
  __wasi_timestamp_t t1 = mono();
  check("one event", n, 1);
  check("event userdata", (long long)ev[0].userdata, 42);
  check("event type CLOCK", ev[0].type, __WASI_EVENTTYPE_CLOCK);
  check("event error 0", ev[0].error, 0);
  check_true("slept at least 20ms", t1 - t0 >= 20000000ull, ">= 20ms");
  check_true("slept less than 5s", t1 - t0 < 5000000000ull, "< 5s");

  /* An absolute timeout never fires before its deadline. (Not "slept about 15 ms": a busy machine, or
     a freeze between the two clock reads, may use up the 15 ms before the poll starts.) */
  __wasi_timestamp_t deadline = mono() + 15000000ull;
  in[0] = clock_sub(8, __WASI_CLOCKID_MONOTONIC, deadline, 1);
  check("poll absolute monotonic +15ms", __wasi_poll_oneoff(in, ev, 1, &n), 0);
  t1 = mono();
  check_true("absolute: woke at or after the deadline", t1 >= deadline, ">= deadline");

  check("poll zero subscriptions INVAL", __wasi_poll_oneoff(in, ev, 0, &n), __WASI_ERRNO_INVAL);

  /* two timers: only the earlier fires */
  in[0] = clock_sub(1, __WASI_CLOCKID_MONOTONIC, 5000000, 0);
  in[1] = clock_sub(2, __WASI_CLOCKID_MONOTONIC, 10000000000ull, 0);
  t0 = mono();
  check("poll two timers", __wasi_poll_oneoff(in, ev, 2, &n), 0);
  t1 = mono();
  check("two timers: one event", n, 1);
  check("two timers: the short one", (long long)ev[0].userdata, 1);
  check_true("two timers: did not wait for the long one", t1 - t0 < 5000000000ull, "< 5s");

  /* fd readiness: a regular file is always ready, and the clock does not hold it back */
  int dir = preopen_fd("/data");
  int fd;
  open_at(dir, 0, "hello.txt", 0, RIGHTS_RO, 0, &fd);
  in[0] = fd_sub(10, __WASI_EVENTTYPE_FD_READ, fd);
  in[1] = clock_sub(11, __WASI_CLOCKID_MONOTONIC, 10000000000ull, 0);
  t0 = mono();
  check("poll file read + long timer", __wasi_poll_oneoff(in, ev, 2, &n), 0);
  t1 = mono();
  check_true("file ready without waiting", t1 - t0 < 5000000000ull, "< 5s");
  int i = by_userdata(ev, n, 10);
  check_true("file read event present", i >= 0, "an event for userdata 10");
  check("file read event type", i >= 0 ? ev[i].type : -1, __WASI_EVENTTYPE_FD_READ);
  check("file read event error 0", i >= 0 ? ev[i].error : -1, 0);
  check("timer not fired", by_userdata(ev, n, 11), -1);

  in[0] = fd_sub(20, __WASI_EVENTTYPE_FD_WRITE, 1);
  check("poll stdout write", __wasi_poll_oneoff(in, ev, 1, &n), 0);
  check("stdout write ready", n == 1 && ev[0].userdata == 20 && ev[0].error == 0, 1);

  in[0] = fd_sub(30, __WASI_EVENTTYPE_FD_READ, 99);
  check("poll bad fd returns", __wasi_poll_oneoff(in, ev, 1, &n), 0);
  check("bad fd event", n, 1);
  check("bad fd event error BADF", ev[0].error, __WASI_ERRNO_BADF);
  check("sched_yield", __wasi_sched_yield(), 0);

  /* Last on purpose, after a flush: node:wasi never returns from an absolute realtime deadline
   * already in the past (it should fire at once). */
  fflush(stdout);
  __wasi_timestamp_t now = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
  in[0] = clock_sub(7, __WASI_CLOCKID_REALTIME, now - 1000000000ull, 1);
  check("poll absolute past deadline", __wasi_poll_oneoff(in, ev, 1, &n), 0);
  check("absolute past: one event", n, 1);
  check("absolute past: userdata", (long long)ev[0].userdata, 7);
  return conf_finish();
}
