/**
 * Guest reads of stdin, worker side. Regular files and devices never block and are read here,
 * directly. A pipe, socket or terminal is read by the main thread on request (stdin-bridge.ts has
 * the design): a read that finds nothing asks for up to READ_AHEAD bytes and sleeps on the control
 * word until the answer wakes it, giving way to a freeze meanwhile. Bytes that arrive go to the
 * handle's `pending` — counted in its `offset`, since they have left the host stream, and carried
 * by a snapshot — and reads take them from there.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HostContext } from './context.js';
import { ERRNO, FDFLAGS } from './defs.js';
import { WasiError } from './errno.js';
import type { StdioHandle } from './handles.js';
import { readSome } from './stdio.js';

/** Worker → main thread: read once, up to `n` bytes; or take that request back. */
export type StdinRequest = { t: 'want'; n: number } | { t: 'cancel' };
/** Main thread → worker: the answer to a want, or the acknowledgement of a cancel. */
export type StdinReply = { t: 'data'; bytes: Uint8Array } | { t: 'end'; failed: boolean } | { t: 'cancelled' };

/**
 * What one request asks for, however little the guest reads: a round trip to the main thread costs
 * ~20 µs, and C stdio reads 1 KiB at a time (asking for just that made piped input 2.5× slower).
 * Like a native program's stdio buffer, what the guest never reads is lost to whoever reads the
 * pipe after it exits; a snapshot carries it. A pipe holds 64 KiB, so a read rarely returns more.
 */
const READ_AHEAD = 64 * 1024;

/** Appends bytes taken from the host to the handle's `pending`. */
function keep(h: StdioHandle, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  if (h.pending === undefined) {
    h.pending = bytes;
  } else {
    const joined = new Uint8Array(h.pending.length + bytes.length);
    joined.set(h.pending);
    joined.set(bytes, h.pending.length);
    h.pending = joined;
  }
  h.offset += bytes.length;
}

/** Moves up to dst.length bytes out of `pending` (which is never left empty: undefined instead). */
function takePending(h: StdioHandle, pending: Uint8Array, dst: Uint8Array): number {
  const n = Math.min(dst.length, pending.length);
  dst.set(pending.subarray(0, n));
  h.pending = n === pending.length ? undefined : pending.slice(n);
  return n;
}

export class StdinClient {
  /** A want is out and unanswered. */
  private asking = false;
  /** Cancels the main thread has not acknowledged yet: until then, bytes it read may still arrive. */
  private unacknowledged = 0;
  private end: { failed: boolean } | undefined;

  constructor(private readonly port: MessagePort) {}

  /** Takes in what the main thread sent; bytes go to `h` (or nowhere if the guest closed stdin). */
  private pump(h: StdioHandle | undefined): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const reply = m.message as StdinReply;
      if (reply.t === 'cancelled') {
        this.unacknowledged--;
        continue;
      }
      this.asking = false;
      if (reply.t === 'end') this.end = { failed: reply.failed };
      else if (h !== undefined) keep(h, reply.bytes);
    }
  }

  /** True when a read would not block (bytes pending, or the end); otherwise asks for more. */
  ready(h: StdioHandle): boolean {
    this.pump(h);
    if (h.pending !== undefined || this.end !== undefined) return true;
    if (!this.asking) {
      this.port.postMessage({ t: 'want', n: READ_AHEAD } satisfies StdinRequest);
      this.asking = true;
    }
    return false;
  }

  /** Takes back an unanswered want: the call that made it returns without the bytes. */
  withdraw(): void {
    if (!this.asking) return;
    this.port.postMessage({ t: 'cancel' } satisfies StdinRequest);
    this.asking = false;
    this.unacknowledged++;
  }

  /**
   * Before a capture: withdraws the want and waits until the main thread has acknowledged every
   * cancel, so that all it read is in `pending` (and so in the snapshot) and nothing arrives later.
   */
  settle(cx: HostContext, h: StdioHandle | undefined): void {
    this.withdraw();
    for (;;) {
      const seen = cx.signal.epoch();
      this.pump(h);
      if (this.unacknowledged === 0) return;
      cx.signal.sleep(seen);
    }
  }

  /** A read at the end of input: 0, or EIO when the main thread's read failed. */
  endOfInput(): number {
    if (this.end?.failed) throw new WasiError(ERRNO.IO, 'reading stdin failed');
    return 0;
  }
}

/**
 * One read of stdin: bytes already taken from the host first, else one read. Through the bridge, a
 * read waits (giving way to a freeze) unless the guest set NONBLOCK: then AGAIN, and the want stays
 * out so that a later read finds the bytes.
 */
export function readStdin(cx: HostContext, h: StdioHandle, dst: Uint8Array): number {
  if (dst.length === 0) return 0;
  const client = cx.stdin;
  const nonblocking = (h.fdflags & FDFLAGS.NONBLOCK) !== 0;
  if (client !== undefined) {
    if (!nonblocking) cx.block(() => (client.ready(h) ? true : null), () => client.withdraw());
    else if (!client.ready(h)) throw new WasiError(ERRNO.AGAIN, 'no input ready');
  }
  if (h.pending !== undefined) return takePending(h, h.pending, dst);
  if (client !== undefined) return client.endOfInput();
  const n = readSome(h.hostFd, dst, nonblocking);
  h.offset += n;
  return n;
}

/** poll_oneoff's view of stdin: the bytes a read would get now (0 at the end), or null when it would block. */
export function stdinReadiness(cx: HostContext, h: StdioHandle): number | null {
  if (cx.stdin !== undefined) return cx.stdin.ready(h) ? (h.pending?.length ?? 0) : null;
  if (h.pending === undefined) {
    // A file or device: a read does not block, so look (the bytes wait in `pending` for fd_read).
    const buf = new Uint8Array(4096);
    keep(h, buf.subarray(0, readSome(h.hostFd, buf, false)));
  }
  return h.pending?.length ?? 0;
}
