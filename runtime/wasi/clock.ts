/**
 * Guest clocks. Realtime passes through. Monotonic is virtual — host hrtime plus an offset — so a
 * thawed process continues from the value it had at capture, whatever the new machine's hrtime.
 */
import { CLOCKID, ERRNO } from './defs.js';
import { WasiError } from './errno.js';

/** Nanoseconds; hrtime has ns granularity, and both clocks are derived from it. */
export const CLOCK_RESOLUTION_NS = 1n;

export class VirtualClock {
  private readonly monotonicOffset: bigint;
  private readonly realtimeOffset: bigint;

  /** `monotonicStart`: the guest-visible monotonic value now (0 for a fresh process). */
  constructor(monotonicStart: bigint) {
    const h = process.hrtime.bigint();
    this.monotonicOffset = monotonicStart - h;
    this.realtimeOffset = BigInt(Date.now()) * 1_000_000n - h;
  }

  monotonic(): bigint {
    return process.hrtime.bigint() + this.monotonicOffset;
  }

  realtime(): bigint {
    return process.hrtime.bigint() + this.realtimeOffset;
  }

  /** CPU-time clocks are approximated by the monotonic clock: the guest runs on one thread. */
  now(clockId: number): bigint {
    switch (clockId) {
      case CLOCKID.REALTIME:
        return this.realtime();
      case CLOCKID.MONOTONIC:
      case CLOCKID.PROCESS_CPUTIME_ID:
      case CLOCKID.THREAD_CPUTIME_ID:
        return this.monotonic();
      default:
        throw new WasiError(ERRNO.INVAL, `unknown clock ${clockId}`);
    }
  }
}
