import { EventEmitter } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import { WmigError } from '../errors.js';
import type { OutputBridge } from '../wasi/output-bridge.js';
import type { SocketBridge } from '../wasi/socket-bridge.js';
import type { StdinBridge } from '../wasi/stdin-bridge.js';
import type { HostBridge } from '../wasi/types.js';
import { Lifecycle, isFinal, type ProcessState } from './lifecycle.js';
import { GUEST_WORKER_NAME, interruptWorker, prepareInterrupts } from './preempt-interrupt.js';
import {
  CONTROL_WORDS,
  FREEZE_FLAG,
  wake,
  type FreezeDestination,
  type FreezeReport,
  type FreezeRequest,
  type WorkerInit,
  type WorkerMessage,
} from './messages.js';

export type { ProcessState } from './lifecycle.js';
export type { FreezeReport, FreezeTimings } from './messages.js';

/** How a process ended. `callCount`: WASI calls made since the program first started (-1 if killed). */
export type ProcessResult =
  | { state: 'exited'; code: number; callCount: number }
  | { state: 'trapped'; message: string; callCount: number }
  | { state: 'frozen'; snapshot: FreezeReport };

export interface FreezeOptions {
  /** Write the snapshot to this file (atomically); without it the snapshot is returned as bytes. */
  path?: string;
  /** Keep the guest running after the snapshot is taken. Default false: the guest stops. */
  leaveRunning?: boolean;
  /** Carry the instrumented module in the snapshot. Default true. */
  embedModule?: boolean;
  /** A word for `wmig inspect` (e.g. "freeze-after 200ms"). */
  reason?: string;
  /**
   * With socket connections open, wait up to this many ms for the guest to close them, holding new
   * connections back, then freeze; if some are still open then, the freeze fails (BUSY) and new
   * connections reach the guest. Default 0: a freeze with open connections fails at once.
   */
  drainMs?: number;
}

/** The main-thread ends of a process's bridges to its worker (socket-bridge.ts, stdin-bridge.ts). */
export interface ProcessBridges {
  sockets?: SocketBridge;
  stdin?: StdinBridge;
  output?: OutputBridge;
}

/** Omit over each member of a union (plain Omit would merge the members). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type WorkerInitData = OmitEach<WorkerInit, 'control' | 'requests'>;

const WORKER_URL = new URL('./worker.js', import.meta.url);
const newGuestWorker = () => new Worker(WORKER_URL, { name: GUEST_WORKER_NAME });
/** A worker thread started ahead of its process, by prestartWorker. */
let spare: Worker | null = null;

/**
 * Starts the next process's worker thread now, so that its start-up (a Node.js environment and
 * wmig's modules: ~100 ms) overlaps the caller's own (reading, instrumenting and compiling the
 * module). The worker waits for its process's first message. Does nothing if one is waiting.
 */
export function prestartWorker(): void {
  if (spare !== null) return;
  const worker = newGuestWorker();
  // An unused spare must not keep the program alive; one that failed or ended is dropped (the next
  // process starts its own).
  worker.unref();
  const drop = () => {
    if (spare === worker) spare = null;
  };
  worker.once('error', drop);
  worker.once('exit', drop);
  spare = worker;
}

function takeWorker(): Worker {
  const worker = spare ?? newGuestWorker();
  spare = null;
  worker.ref();
  return worker;
}
/** Exit status reported for a killed guest, like a shell's for SIGKILL. */
const KILLED_STATUS = 137;
const now = () => performance.timeOrigin + performance.now();
/** The longest drain a freeze accepts: 2^31 - 1 ms, about 24.8 days (setTimeout's limit, which once timed it). */
const MAX_DRAIN_MS = 2 ** 31 - 1;
/**
 * A guest with preemption checks is interrupted again while a freeze request waits (the first may
 * come before the worker is attached, or be declined while draining), after 1, 2, 4… ms, up to this.
 */
const MAX_INTERRUPT_WAIT_MS = 50;

/**
 * A running wmig process: a guest in a worker thread, seen from the main thread.
 * Its `state` follows the lifecycle state machine. Events: 'state' (to, from) on each change,
 * 'frozen' (FreezeReport) after every snapshot, 'freeze-error' (WmigError) when an automatic
 * freeze failed (the guest keeps running).
 */
export class WmigProcess extends EventEmitter {
  readonly #lifecycle = new Lifecycle();
  readonly #worker: Worker;
  readonly #flag = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  readonly #requests = new MessageChannel();
  readonly #pending = new Map<number, { resolve: (r: FreezeReport) => void; reject: (e: Error) => void }>();
  #nextRequestId = 1;
  #killed = false;
  #settle!: (result: ProcessResult) => void;
  #fail!: (error: Error) => void;
  readonly #sockets: SocketBridge | undefined;
  readonly #output: OutputBridge | undefined;
  readonly #bridges: HostBridge[];
  /** The guest has preemption checks: a freeze request also interrupts it (preempt-interrupt.ts). */
  readonly #preemptible: boolean;
  /** Resolves when the guest is gone (exited, trapped or frozen); rejects if wmig itself failed. */
  readonly result: Promise<ProcessResult>;

  /** @internal Use `run()` or `thaw()`. */
  constructor(init: WorkerInitData, transfer: ArrayBuffer[] = [], bridges: ProcessBridges = {}) {
    super();
    this.#sockets = bridges.sockets;
    this.#output = bridges.output;
    this.#bridges = [bridges.sockets, bridges.stdin].filter((b) => b !== undefined);
    this.#preemptible = init.info.preemptFlag !== undefined;
    if (this.#preemptible) prepareInterrupts();
    for (const bridge of this.#bridges) bridge.attach(() => wake(this.#flag));
    this.result = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
    this.#lifecycle.on('change', (to: ProcessState, from: ProcessState) => this.emit('state', to, from));
    const workerInit = { ...init, control: this.#flag.buffer, requests: this.#requests.port2 } as WorkerInit;
    this.#lifecycle.transition(init.kind === 'start' ? 'running' : 'thawing');
    this.#worker = takeWorker();
    this.#worker.postMessage(workerInit, [this.#requests.port2, ...transfer, ...this.#bridges.map((b) => b.workerPort)]);
    this.#worker.on('message', (message: WorkerMessage) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.#abort(new WmigError('INTERNAL', `guest worker failed: ${error.message}`, { cause: error })));
    this.#worker.on('exit', () => {
      // A worker that reported its end wrote its output first; a killed or failed one may have left some.
      this.#output?.close();
      if (isFinal(this.#lifecycle.state)) return;
      if (this.#killed) {
        this.#lifecycle.transition('exited');
        this.#finish({ state: 'exited', code: KILLED_STATUS, callCount: -1 });
      } else this.#abort(new WmigError('INTERNAL', 'guest worker exited unexpectedly'));
    });
  }

  /** The addresses this process listens on for its guest (`--listen`), in guest fd order. */
  get listening(): string[] {
    return this.#sockets ? [...this.#sockets.addresses] : [];
  }

  /**
   * Bytes of the guest's socket sends this process holds, not yet handed to the OS, now and at most
   * so far: bounded by the send high-water mark plus one send per connection, however slow the peer.
   */
  get sendBacklog(): { bytes: number; peak: number } {
    return this.#sockets?.sendBacklog ?? { bytes: 0, peak: 0 };
  }

  get state(): ProcessState {
    return this.#lifecycle.state;
  }

  /**
   * Freezes the guest at its next freeze-point call. Resolves with the snapshot (bytes or file);
   * rejects if the guest ends first or the snapshot cannot be written (the guest then keeps running).
   */
  freeze(options: FreezeOptions = {}): Promise<FreezeReport> {
    if (this.state !== 'running' && this.state !== 'thawing') {
      return Promise.reject(new WmigError('INTERNAL', `cannot freeze a process that is ${this.state}`));
    }
    if (this.#pending.size > 0) return Promise.reject(new WmigError('INTERNAL', 'a freeze is already in progress'));
    const drainMs = options.drainMs ?? 0;
    if (!(drainMs >= 0 && drainMs <= MAX_DRAIN_MS)) {
      return Promise.reject(new WmigError('USAGE', `drainMs must be between 0 and ${MAX_DRAIN_MS}, got ${drainMs}`));
    }
    const destination: FreezeDestination = options.path ? { kind: 'file', path: options.path } : { kind: 'memory' };
    const request: FreezeRequest = {
      id: this.#nextRequestId++,
      destination,
      leaveRunning: options.leaveRunning ?? false,
      embedModule: options.embedModule ?? true,
      requestedAt: now(),
      reason: options.reason ?? 'freeze request',
      ...(drainMs > 0 ? { drainUntil: now() + drainMs } : {}),
    };
    const done = new Promise<FreezeReport>((resolve, reject) => this.#pending.set(request.id, { resolve, reject }));
    if (drainMs > 0 && this.#sockets) {
      const sockets = this.#sockets;
      sockets.hold();
      // The guest ends the drain at drainUntil by its own clock (its sleeps are bounded by it).
      const drained = () => sockets.release();
      done.then(drained, drained);
    }
    // The message must be queued before the flag is raised: the worker reads it synchronously.
    this.#requests.port1.postMessage(request);
    Atomics.store(this.#flag, FREEZE_FLAG, 1);
    // Wakes a guest that is blocked in a host call (sleep, stdin, socket) so it can freeze there.
    wake(this.#flag);
    if (this.#preemptible) this.#interruptUntil(done);
    return done;
  }

  /** Interrupts the worker now and again, with growing waits, until the request settles. */
  #interruptUntil(settled: Promise<unknown>): void {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const stop = () => {
      done = true;
      clearTimeout(timer);
    };
    settled.then(stop, stop);
    let waitMs = 1;
    const interrupt = () => {
      if (done) return;
      interruptWorker(this.#worker);
      timer = setTimeout(interrupt, waitMs).unref();
      waitMs = Math.min(waitMs * 2, MAX_INTERRUPT_WAIT_MS);
    };
    interrupt();
  }

  /**
   * Writes out what the guest wrote to stdout/stderr that is still buffered (when they are regular
   * files, its writes reach them about 1 ms later): for a caller about to end abruptly, e.g. on a signal.
   */
  flushOutput(): void {
    this.#output?.flush();
  }

  /** Stops the guest at once, without a snapshot; `result` then reports exit status 137 (as SIGKILL). */
  async kill(): Promise<void> {
    this.#killed = true;
    await this.#worker.terminate();
  }

  #onMessage(message: WorkerMessage): void {
    switch (message.kind) {
      case 'running':
        this.#lifecycle.transition('running');
        return;
      case 'freezing':
        this.#lifecycle.transition('freezing');
        return;
      case 'frozen': {
        const { report } = message;
        this.#lifecycle.transition(report.leftRunning ? 'running' : 'frozen');
        this.#takePending(report.id)?.resolve(report);
        this.emit('frozen', report);
        if (!report.leftRunning) this.#finish({ state: 'frozen', snapshot: report });
        return;
      }
      case 'freeze-failed': {
        this.#lifecycle.transition('running');
        const error = new WmigError(message.error.kind, message.error.message);
        const pending = this.#takePending(message.id);
        if (pending) pending.reject(error);
        else this.emit('freeze-error', error);
        return;
      }
      case 'exited':
        this.#lifecycle.transition('exited');
        this.#finish({ state: 'exited', code: message.code, callCount: message.callCount });
        return;
      case 'trapped':
        this.#lifecycle.transition('trapped');
        this.#finish({ state: 'trapped', message: message.message, callCount: message.callCount });
        return;
      case 'failed':
        this.#abort(new WmigError(message.error.kind, message.error.message));
        return;
    }
  }

  #takePending(id: number) {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }

  #finish(result: ProcessResult): void {
    for (const { reject } of this.#pending.values()) {
      reject(new WmigError('INTERNAL', `the guest ${result.state} before it reached a freeze point`));
    }
    this.#pending.clear();
    this.#requests.port1.close();
    for (const bridge of this.#bridges) bridge.close();
    this.#settle(result);
  }

  #abort(error: WmigError): void {
    this.#output?.flush(); // the caller may end before the worker's exit writes out the rest
    if (!isFinal(this.#lifecycle.state)) this.#lifecycle.transition('trapped');
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
    this.#requests.port1.close();
    for (const bridge of this.#bridges) bridge.close();
    this.#fail(error);
    void this.#worker.terminate();
  }
}
