/**
 * Thrown by a host import that is blocked (sleeping, waiting for stdin or a socket) when a freeze
 * is requested. Only allowed while the call has had no effect yet: the guest then unwinds as if
 * the freeze had happened just before the call, and the call runs again after the thaw.
 */
export class FreezeInterrupt extends Error {
  constructor() {
    super('freeze requested during a blocking call');
    this.name = 'FreezeInterrupt';
  }
}

/**
 * How blocking host calls learn of a freeze request and wait for something to happen. A waiting
 * call reads `epoch()`, then checks its condition and `requested()`, then sleeps on the epoch it
 * read: a freeze request or a bridge message that lands in between has already changed the epoch,
 * so no wake-up is lost and no call needs to poll.
 */
export interface FreezeSignal {
  /** True while a freeze request is pending. */
  requested(): boolean;
  /** A counter that moves on every freeze request and every message a bridge sends the worker. */
  epoch(): number;
  /** Sleeps until epoch() is no longer `seen`, or `ms` milliseconds pass (default: no limit). */
  sleep(seen: number, ms?: number): void;
}

/** The signal for hosts that run without a controller (tests, benchmarks): never requested, never woken. */
export const NO_FREEZE_SIGNAL: FreezeSignal = {
  requested: () => false,
  epoch: () => 0,
  sleep: (_seen, ms = Infinity) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
};
