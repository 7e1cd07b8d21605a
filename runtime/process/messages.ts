/** The protocol between a process object (main thread) and the worker thread that runs its guest. */
import type { MessagePort } from 'node:worker_threads';
import type { InstrumentInfo } from '../../transforms/index.js';
import type { ExitCodeName } from '../errors.js';
import type { ModuleRef } from '../snapshot/types.js';
import type { WasiConfig, WasiRestoreOptions } from '../wasi/types.js';

/** Where a freeze puts the snapshot. */
export type FreezeDestination = { kind: 'file'; path: string } | { kind: 'memory' };

export interface FreezeRequest {
  id: number;
  destination: FreezeDestination;
  /** Keep the guest running after the snapshot is taken. */
  leaveRunning: boolean;
  /** Carry the instrumented module inside the snapshot (self-contained thaw). */
  embedModule: boolean;
  /** Wall-clock ms (performance.timeOrigin + now) when the request was made, for latency figures. */
  requestedAt: number;
  /** While socket connections are open, wait for them to close until this wall-clock ms, then freeze
   * (or fail BUSY). Absent: a freeze with open connections fails at once. */
  drainUntil?: number;
  reason: string;
}

interface CommonInit {
  module: WebAssembly.Module;
  info: InstrumentInfo;
  moduleRef: ModuleRef;
  /** The Asyncify tool that made the module, when known; snapshots record it. */
  instrumentedBy: string | null;
  /** CONTROL_WORDS Int32 words: the freeze flag and the wake epoch (see FREEZE_FLAG, WAKE_EPOCH). */
  control: SharedArrayBuffer;
  requests: MessagePort;
  /** Freeze before this freeze-point call (1-based, counted from the program's start). */
  freezeAtCall?: FreezeRequest & { callNumber: number };
}

export type WorkerInit =
  | (CommonInit & { kind: 'start'; wasi: WasiConfig })
  | (CommonInit & { kind: 'thaw'; snapshot: Uint8Array; restore: WasiRestoreOptions });

export interface FreezeTimings {
  requestedAt: number;
  /** Stack unwound, globals and host state captured, memory held in place. */
  capturedAt: number;
  /** Snapshot written to its file, or encoded into bytes. */
  emittedAt: number;
}

export interface FreezeReport {
  id: number;
  path?: string;
  bytes?: Uint8Array;
  byteLength: number;
  /** The call the guest was about to make; a thaw makes it first. */
  callNumber: number;
  leftRunning: boolean;
  timings: FreezeTimings;
}

export interface ErrorReport {
  kind: ExitCodeName;
  message: string;
}

export type WorkerMessage =
  | { kind: 'running' }
  | { kind: 'freezing'; id: number }
  | { kind: 'frozen'; report: FreezeReport }
  | { kind: 'freeze-failed'; id: number; error: ErrorReport }
  | { kind: 'exited'; code: number; callCount: number }
  | { kind: 'trapped'; message: string; callCount: number }
  | { kind: 'failed'; error: ErrorReport };

/** Index of the request flag in the control Int32Array: non-zero when a freeze request waits on `requests`. */
export const FREEZE_FLAG = 0;
/** Index of the wake epoch: bumped (and notified) after every freeze request and bridge message. */
export const WAKE_EPOCH = 1;
export const CONTROL_WORDS = 2;

/**
 * The worker's function (on its globalThis, under this registered symbol) that sets the guest's
 * preemption flag; the main thread has it called from an interrupt (preempt-interrupt.ts).
 */
export const PREEMPT_REQUEST = 'wmig.preempt-request';

/** Tells a worker blocked in a host call that something happened (its message is already queued). */
export function wake(control: Int32Array): void {
  Atomics.add(control, WAKE_EPOCH, 1);
  Atomics.notify(control, WAKE_EPOCH);
}
