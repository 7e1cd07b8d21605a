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

/** How blocking host calls learn of, and wait for, a freeze request. */
export interface FreezeSignal {
  /** True while a freeze request is pending. */
  requested(): boolean;
  /** Sleeps up to `ms` milliseconds, waking early when a freeze is requested; returns requested(). */
  wait(ms: number): boolean;
}

/** The signal for hosts that run without a controller (tests, benchmarks): never requested. */
export const NO_FREEZE_SIGNAL: FreezeSignal = {
  requested: () => false,
  wait: (ms) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return false;
  },
};
