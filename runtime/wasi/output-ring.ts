/**
 * Write-behind for the guest's stdout and stderr when they are regular files or /dev/null.
 *
 * Why: a guest's fd_write to stdout costs node:fs's `writeSync` (a system call through Node's
 * JavaScript fs layer), above node:wasi's whole call, which goes from wasm straight into C++. So
 * the worker appends such writes to a shared buffer instead, and they reach the file in batches:
 * from the main thread within about a millisecond (output-bridge.ts), or from the worker itself
 * when the buffer is full and before any other WASI call that could observe or order against them
 * (anything but clocks, random, args, environ, sched_yield and writes to a buffered stream). A
 * freeze, an exit and a trap write everything first, so snapshots and the files a process leaves
 * behind are exactly as if every write had gone through at once.
 *
 * Only regular files and /dev/null: writes to them do not block for long (the main thread makes
 * them synchronously, holding the buffer), and a failure is what a page cache already defers (a
 * full disk, EIO). Such a failure is kept and returned by the stream's next fd_write or fd_close,
 * as a file system that writes back later returns it at close; the bytes of the failed batch are
 * lost, as they are there (the guest's stdio has no right to fd_sync). Pipes, sockets and
 * terminals are written at once, as before: a write there can block for good, and EPIPE must come
 * back from the write itself.
 *
 * Layout (one SharedArrayBuffer): Int32 control words, then the data area; records are appended
 * at USED: a u32 header (length × 4 + stream) and the bytes. OWNER is the lock: whoever holds it
 * may append or write out and reset the buffer.
 */
import { fstatSync, statSync } from 'node:fs';
import { errnoOf, WasiError } from './errno.js';
import type { GuestMemory } from './memory.js';
import { writevAll } from './stdio.js';

const USED = 0;
const OWNER = 1;
/** Set by the main thread before it sleeps; a worker append that sees it wakes it. */
const SLEEPING = 2;
/** Bytes of the buffer already written by a writeOut under way (so a killed worker's are not written twice). */
const WRITTEN = 3;
/** First failed errno of stdout (ERRORS + 1) and stderr (ERRORS + 2), 0 when none. */
const ERRORS = 4;
const CONTROL_BYTES = 32;
const FREE = 0, WORKER = 1, MAIN = 2;
const HEADER = 4;
/** The data area. A write larger than half of it goes to the file at once (after what is buffered). */
export const OUTPUT_CAPACITY = 64 * 1024;
const DIRECT = OUTPUT_CAPACITY / 2;
/** Below this many bytes a byte loop copies faster than a subarray and set(). */
const SMALL_COPY = 32;

/** What the worker needs to buffer its stdout/stderr: the shared buffer and the streams it covers. */
export interface OutputInit {
  buffer: SharedArrayBuffer;
  /** Host fds of stdout (index 1) and stderr (index 2) when buffered; -1 when written at once. */
  fds: [number, number, number];
}

/** Whether writes to this host fd may be deferred: a regular file or /dev/null. */
export function deferrable(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFile() || (st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev);
  } catch {
    return false; // a closed fd: let the guest's write report it
  }
}

export function newOutputInit(stdout: number, stderr: number): OutputInit | undefined {
  const fds: [number, number, number] = [-1, deferrable(stdout) ? stdout : -1, deferrable(stderr) ? stderr : -1];
  if (fds[1] === -1 && fds[2] === -1) return undefined;
  return { buffer: new SharedArrayBuffer(CONTROL_BYTES + OUTPUT_CAPACITY), fds };
}

/** The shared buffer as seen from either thread. */
export class OutputRing {
  readonly control: Int32Array;
  private readonly data: Uint8Array;
  private readonly view: DataView;
  readonly fds: [number, number, number];

  constructor(init: OutputInit) {
    this.control = new Int32Array(init.buffer, 0, CONTROL_BYTES / 4);
    this.data = new Uint8Array(init.buffer, CONTROL_BYTES);
    this.view = new DataView(init.buffer, CONTROL_BYTES);
    this.fds = init.fds;
  }

  /** Whether fd_write on this stdio stream is deferred. */
  buffers(stream: number): boolean {
    return this.fds[stream]! >= 0;
  }

  // ---- worker side ----

  /**
   * Appends one fd_write's iovecs (already checked) for `stream`; returns the bytes taken. A large
   * write goes to the file directly, after everything buffered. Throws the stream's deferred error.
   */
  append(stream: number, mem: GuestMemory, iovs: number, count: number): number {
    this.throwDeferred(stream);
    let total = 0;
    for (let i = 0; i < count; i++) total += mem.iovecLen(iovs, i);
    this.lock(WORKER);
    try {
      if (total > DIRECT) {
        this.writeOut();
        this.writeDirect(stream, mem, iovs, count);
        this.throwDeferred(stream);
        return total;
      }
      if (Atomics.load(this.control, USED) + HEADER + total > OUTPUT_CAPACITY) this.writeOut();
      let at = Atomics.load(this.control, USED);
      this.view.setUint32(at, total * 4 + stream, true);
      at += HEADER;
      const u8 = mem.u8;
      for (let i = 0; i < count; i++) {
        const buf = mem.iovecBuf(iovs, i);
        const len = mem.iovecLen(iovs, i);
        if (len <= SMALL_COPY) for (let j = 0; j < len; j++) this.data[at + j] = u8[buf + j]!;
        else this.data.set(u8.subarray(buf, buf + len), at);
        at += len;
      }
      Atomics.store(this.control, USED, at);
    } finally {
      this.unlock();
    }
    // An atomic read: a plain one could be ordered before the store of USED above (not on x86, on
    // ARM), and miss the main thread going to sleep after it found the buffer empty.
    if (Atomics.load(this.control, SLEEPING) !== 0 && Atomics.exchange(this.control, SLEEPING, 0) !== 0) Atomics.notify(this.control, SLEEPING);
    return total;
  }

  /** Writes everything buffered to the files now (before a call that could observe or order against it). */
  flush(): void {
    // A plain read: only the worker makes USED grow, so here a stale 0 is not possible.
    if (this.control[USED] === 0) return;
    this.lock(WORKER);
    try {
      this.writeOut();
    } finally {
      this.unlock();
    }
  }

  /** Throws (as a WASI errno) a failure of an earlier deferred write to `stream`, once. */
  throwDeferred(stream: number): void {
    if (this.control[ERRORS + stream] === 0) return;
    const errno = Atomics.exchange(this.control, ERRORS + stream, 0);
    if (errno !== 0) throw new WasiError(errno, `an earlier write to ${stream === 1 ? 'stdout' : 'stderr'} failed`);
  }

  // ---- main thread side ----

  /** Writes what is buffered if the worker is not busy with the buffer; false if it was. */
  tryWriteOut(): boolean {
    if (Atomics.compareExchange(this.control, OWNER, FREE, MAIN) !== FREE) return false;
    try {
      this.writeOut();
    } finally {
      this.unlock();
    }
    return true;
  }

  /** After the worker is gone: writes out the complete records it left, whoever held the buffer. */
  writeOutAbandoned(): void {
    Atomics.store(this.control, OWNER, MAIN);
    this.writeOut();
    this.unlock();
  }

  /**
   * Resolves once the worker has appended something (at once if it already has). Before it
   * sleeps the main thread says so, and an append that sees that wakes it: no wake-ups while
   * the guest writes nothing, and no notify per append while the main thread is awake anyway.
   */
  whenPending(): Promise<unknown> {
    Atomics.store(this.control, SLEEPING, 1);
    if (Atomics.load(this.control, USED) !== 0) {
      Atomics.store(this.control, SLEEPING, 0);
      return Promise.resolve();
    }
    const wait = Atomics.waitAsync(this.control, SLEEPING, 1);
    return wait.async ? wait.value : Promise.resolve();
  }

  /** Ends a whenPending wait that is no longer wanted. */
  cancelWait(): void {
    Atomics.store(this.control, SLEEPING, 0);
    Atomics.notify(this.control, SLEEPING);
  }

  // ---- both ----

  private lock(owner: number): void {
    for (;;) {
      const held = Atomics.compareExchange(this.control, OWNER, FREE, owner);
      if (held === FREE) return;
      Atomics.wait(this.control, OWNER, held); // the main thread holds it for one batch of writes
    }
  }

  private unlock(): void {
    Atomics.store(this.control, OWNER, FREE);
    Atomics.notify(this.control, OWNER);
  }

  /** With the buffer held: writes every record, consecutive ones of a stream in one writev, and empties it. */
  private writeOut(): void {
    const used = Atomics.load(this.control, USED);
    let at = Atomics.load(this.control, WRITTEN);
    while (at < used) {
      const stream = this.view.getUint32(at, true) & 3;
      const slices: Uint8Array[] = [];
      while (at < used) {
        const header = this.view.getUint32(at, true);
        if ((header & 3) !== stream) break;
        const len = header >>> 2;
        slices.push(this.data.subarray(at + HEADER, at + HEADER + len));
        at += HEADER + len;
      }
      this.writeSlices(stream, slices);
      Atomics.store(this.control, WRITTEN, at);
    }
    Atomics.store(this.control, USED, 0);
    Atomics.store(this.control, WRITTEN, 0);
  }

  private writeDirect(stream: number, mem: GuestMemory, iovs: number, count: number): void {
    this.writeSlices(stream, mem.iovecs(iovs, count).map((v) => mem.u8.subarray(v.buf, v.buf + v.len)));
  }

  /** Writes the slices to the stream's fd in order; a failure is kept for the stream and the rest dropped. */
  private writeSlices(stream: number, slices: Uint8Array[]): void {
    try {
      writevAll(this.fds[stream]!, slices);
    } catch (error) {
      Atomics.compareExchange(this.control, ERRORS + stream, 0, errnoOf(error));
    }
  }
}
