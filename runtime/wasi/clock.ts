/**
 * Guest clocks. Realtime passes through. Monotonic is virtual — host hrtime plus an offset — so a
 * thawed process continues from the value it had at capture, whatever the new machine's hrtime.
 * In deterministic mode both clocks are virtual: they start at fixed values and advance by a
 * fixed step per guest clock read and by exactly the slept time in poll_oneoff (which then does
 * not sleep at all); the snapshot carries the virtual time, so a thawed process continues it.
 */
import { CLOCKID, ERRNO } from './defs.js';
import { WasiError } from './errno.js';

/** Looked up once: clock_time_get is the most frequent call of many programs. */
const hrtimeNs = process.hrtime.bigint;

/** Nanoseconds; hrtime has ns granularity, and both clocks are derived from it. */
export const CLOCK_RESOLUTION_NS = 1n;

/** Deterministic mode: realtime starts at 2024-01-01T00:00:00Z, monotonic at 0. */
export const DETERMINISTIC_REALTIME_BASE_NS = 1_704_067_200n * 1_000_000_000n;
/** Deterministic mode: every guest clock read advances virtual time by 1 µs. */
export const DETERMINISTIC_STEP_NS = 1_000n;

export interface GuestClock {
  readonly deterministic: boolean;
  /** A guest read of clock `id` (clock_time_get): in deterministic mode, time then moves on by a step. */
  read(clockId: number): bigint;
  /** The current value of clock `id` without side effects; INVAL for unknown clocks. */
  peek(clockId: number): bigint;
  realtime(): bigint;
  monotonic(): bigint;
  /** Deterministic mode only: moves virtual time forward by `ns` (a poll_oneoff "sleep"). */
  advance(ns: bigint): void;
  /**
   * The guest is about to run again after a thaw: monotonic time restarts from the captured value
   * here, so restoring memory and instantiating (tens of ms for a big heap) is not time the guest sees.
   */
  resume(): void;
}

function checkId(clockId: number): 'real' | 'mono' {
  switch (clockId) {
    case CLOCKID.REALTIME:
      return 'real';
    // CPU-time clocks are approximated by the monotonic clock: the guest runs on one thread.
    case CLOCKID.MONOTONIC:
    case CLOCKID.PROCESS_CPUTIME_ID:
    case CLOCKID.THREAD_CPUTIME_ID:
      return 'mono';
    default:
      throw new WasiError(ERRNO.INVAL, `unknown clock ${clockId}`);
  }
}

export class VirtualClock implements GuestClock {
  readonly deterministic = false;
  private readonly monotonicStart: bigint;
  private monotonicOffset: bigint;
  private readonly realtimeOffset: bigint;

  /** `monotonicStart`: the guest-visible monotonic value now (0 for a fresh process). */
  constructor(monotonicStart: bigint) {
    const h = hrtimeNs();
    this.monotonicStart = monotonicStart;
    this.monotonicOffset = monotonicStart - h;
    this.realtimeOffset = BigInt(Date.now()) * 1_000_000n - h;
  }

  resume(): void {
    this.monotonicOffset = this.monotonicStart - hrtimeNs();
  }

  monotonic(): bigint {
    return hrtimeNs() + this.monotonicOffset;
  }

  realtime(): bigint {
    return hrtimeNs() + this.realtimeOffset;
  }

  peek(clockId: number): bigint {
    return checkId(clockId) === 'real' ? this.realtime() : this.monotonic();
  }

  read(clockId: number): bigint {
    return this.peek(clockId);
  }

  advance(): void {
    throw new Error('VirtualClock.advance: only the deterministic clock advances by itself');
  }
}

export class DeterministicClock implements GuestClock {
  readonly deterministic = true;
  /** Virtual ns since the start of the run. */
  elapsed: bigint;

  constructor(elapsed = 0n) {
    this.elapsed = elapsed;
  }

  monotonic(): bigint {
    return this.elapsed;
  }

  realtime(): bigint {
    return DETERMINISTIC_REALTIME_BASE_NS + this.elapsed;
  }

  peek(clockId: number): bigint {
    return checkId(clockId) === 'real' ? this.realtime() : this.monotonic();
  }

  read(clockId: number): bigint {
    const v = this.peek(clockId);
    this.elapsed += DETERMINISTIC_STEP_NS;
    return v;
  }

  advance(ns: bigint): void {
    if (ns > 0n) this.elapsed += ns;
  }

  /** Virtual time does not pass while frozen or thawing. */
  resume(): void {}
}
