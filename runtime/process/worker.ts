/**
 * The worker thread that runs one guest. The main thread stays free to take freeze requests;
 * the guest notices them at its next freeze-point call through a shared flag (with --preempt, also
 * at its next loop header, once the main thread's interrupt has set the guest's preemption flag).
 */
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { outputOptions } from '../../transforms/index.js';
import { Guest, type GuestOutcome } from '../engine/guest.js';
import type { FreezeSignal } from '../engine/interrupt.js';
import { WmigError } from '../errors.js';
import { writeSnapshotFile } from '../snapshot/file.js';
import { decodeSnapshot, snapshotBytes } from '../snapshot/format.js';
import type { SnapshotInput } from '../snapshot/types.js';
import { WasiHost } from '../wasi/host.js';
import { VERSION } from '../version.js';
import { FREEZE_FLAG, PREEMPT_REQUEST, WAKE_EPOCH, type FreezeReport, type FreezeRequest, type WorkerInit, type WorkerMessage } from './messages.js';

// The process's first message (process.ts may start this thread before it knows the guest).
const init = await new Promise<WorkerInit>((resolve) => parentPort!.once('message', resolve));
const flag = new Int32Array(init.control);
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);
const now = () => performance.timeOrigin + performance.now();

/** A control request taken off the port: it stays here (and the flag stays raised) while it drains. */
let held: FreezeRequest | null = null;
/** The request the guest unwinds for: set when a check answers yes, taken by takeRequest. */
let unwindFor: FreezeRequest | null = null;
/** Open connections that refuse a freeze (WasiHost.busy), once the host exists. */
let hostBusy: () => string | undefined = () => undefined;

/**
 * Whether the raised flag's request freezes now. A draining one waits while connections are open,
 * until its deadline: then it goes ahead, and the capture refuses (BUSY) if they still are.
 */
function flagDue(): boolean {
  if (held === null) {
    // The process queues the message before it raises the flag.
    const message = receiveMessageOnPort(init.requests);
    if (!message) return false;
    held = message.message as FreezeRequest;
  }
  if (held.drainUntil !== undefined && now() < held.drainUntil && hostBusy() !== undefined) return false;
  unwindFor = held;
  return true;
}

/** Lets blocking host calls (sleeps, stdin, sockets) wake up for bridge messages and give way to a freeze. */
const freezeSignal: FreezeSignal = {
  requested: () => Atomics.load(flag, FREEZE_FLAG) !== 0 && flagDue(),
  epoch: () => Atomics.load(flag, WAKE_EPOCH),
  sleep: (seen, ms = Infinity) => {
    // A draining freeze ends at its deadline, which only this thread watches (on its own clock: a
    // wake from the main thread's timer could come before it by this clock, and sleep on for good).
    const drainLeft = held?.drainUntil === undefined ? Infinity : Math.max(0, held.drainUntil - now()) + 1;
    Atomics.wait(flag, WAKE_EPOCH, seen, Math.min(ms, drainLeft));
  },
};

/** Read once: freezeCheck runs before every WASI call. -1 when none: comparing a number with undefined is a builtin call. */
const freezeAtCallNumber = init.freezeAtCall?.callNumber ?? -1;

function freezeCheck(callNumber: number): boolean {
  // A plain read: Atomics.load is a builtin call V8 does not inline (5 ns on every WASI call). The
  // flag is one aligned word, so the read sees 0 or 1, and every call reads it afresh; flagDue
  // then reads the request itself off the port.
  if (flag[FREEZE_FLAG] !== 0 && flagDue()) return true;
  if (callNumber !== freezeAtCallNumber) return false;
  unwindFor = { ...init.freezeAtCall!, requestedAt: now() };
  return true;
}

/** The request behind the freeze that just happened: a control message, or the --freeze-at-call one. */
function takeRequest(): FreezeRequest {
  const request = unwindFor;
  if (request === null) throw new WmigError('INTERNAL', 'the guest unwound without a freeze request');
  unwindFor = null;
  if (request === held) {
    held = null;
    Atomics.store(flag, FREEZE_FLAG, 0);
  }
  return request;
}

function snapshotInput(guest: Guest, host: WasiHost, request: FreezeRequest): SnapshotInput {
  const captured = guest.capture();
  const { host: hostState, files } = host.capture();
  return {
    module: request.embedModule ? init.moduleRef : { digest: init.moduleRef.digest, name: init.moduleRef.name },
    memory: captured.memory,
    globals: captured.globals,
    stack: captured.stack,
    host: hostState,
    files,
    meta: {
      wmigVersion: VERSION,
      originalDigest: init.info.originalDigest,
      transformVersion: init.info.transformVersion,
      ...(init.instrumentedBy ? { instrumentedBy: init.instrumentedBy } : {}),
      frozenAt: new Date().toISOString(),
      callCount: captured.callCount,
      reason: request.reason,
      ...outputOptions(init.info),
    },
  };
}

/** Writes or encodes the snapshot. Throws WmigError; the guest is untouched either way. */
function emit(guest: Guest, host: WasiHost, request: FreezeRequest): FreezeReport {
  const input = snapshotInput(guest, host, request);
  const capturedAt = now();
  const callNumber = guest.callCount + 1;
  const report = { id: request.id, callNumber, leftRunning: request.leaveRunning };
  if (request.destination.kind === 'file') {
    const byteLength = writeSnapshotFile(request.destination.path, input);
    return { ...report, path: request.destination.path, byteLength, timings: { requestedAt: request.requestedAt, capturedAt, emittedAt: now() } };
  }
  const bytes = snapshotBytes(input);
  return { ...report, bytes, byteLength: bytes.length, timings: { requestedAt: request.requestedAt, capturedAt, emittedAt: now() } };
}

function errorReport(error: unknown) {
  if (error instanceof WmigError) return { kind: error.kind, message: error.message };
  return { kind: 'INTERNAL' as const, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

function boot(): { guest: Guest; host: WasiHost; outcome: () => GuestOutcome } {
  if (init.kind === 'start') {
    const host = new WasiHost(init.wasi);
    host.setFreezeSignal(freezeSignal);
    hostBusy = () => host.busy();
    const guest = Guest.instantiate(init.module, init.info, host, freezeCheck);
    return { guest, host, outcome: () => guest.start() };
  }
  // The main thread verified checksums and page hashes before sending the bytes.
  const snapshot = decodeSnapshot(init.snapshot, { verify: false });
  const host = WasiHost.restore(snapshot.host, snapshot.files, init.restore);
  host.setFreezeSignal(freezeSignal);
  hostBusy = () => host.busy();
  const guest = Guest.instantiate(init.module, init.info, host, freezeCheck);
  guest.restore(snapshot, Number(snapshot.meta.callCount ?? 0));
  return {
    guest,
    host,
    outcome: () => {
      host.resumeClocks();
      return guest.resume();
    },
  };
}

function main(): void {
  let booted;
  try {
    booted = boot();
  } catch (error) {
    post({ kind: 'failed', error: errorReport(error) });
    return;
  }
  const { guest, host } = booted;
  // Called from an interrupt the main thread sends with a freeze request (preempt-interrupt.ts).
  (globalThis as Record<symbol, unknown>)[Symbol.for(PREEMPT_REQUEST)] = () => guest.requestPreempt();
  post({ kind: 'running' });
  let outcome = booted.outcome();
  while (outcome.kind === 'unwound') {
    const request = takeRequest();
    post({ kind: 'freezing', id: request.id });
    let keepRunning = request.leaveRunning;
    try {
      const report = emit(guest, host, request);
      post({ kind: 'frozen', report }, report.bytes ? [report.bytes.buffer as ArrayBuffer] : []);
    } catch (error) {
      // A failed freeze must not lose the process: report it and carry on.
      const report = errorReport(error);
      if (report.kind === 'BUSY' && request.drainUntil !== undefined) report.message += ' after draining until the deadline';
      post({ kind: 'freeze-failed', id: request.id, error: report });
      keepRunning = true;
    }
    if (!keepRunning) {
      host.close();
      return;
    }
    outcome = guest.resume();
  }
  host.close();
  const { callCount } = guest;
  post(outcome.kind === 'exited' ? { kind: 'exited', code: outcome.code, callCount } : { kind: 'trapped', message: outcome.message, callCount });
}

try {
  main();
} catch (error) {
  post({ kind: 'failed', error: errorReport(error) });
}
