/**
 * Write-behind for the guest's stdout and stderr when they are regular files, /dev/null or pipes.
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
 * Regular files and /dev/null: the main thread writes them synchronously, holding the buffer (a
 * write there does not block for long). Pipes: the main thread writes through a non-blocking
 * descriptor of its own for the pipe, so a reader that lets the pipe fill never blocks it; it
 * keeps how far it got and tries again later, and the worker, which may block, writes the rest
 * when it needs the buffer. A pipe's batches are cut at whole records of at most PIPE_BUF bytes,
 * so a guest's write of up to PIPE_BUF stays atomic against other writers of the pipe, as on
 * Linux. Sockets and terminals are written at once (no second descriptor can be opened for a
 * socket, and a terminal is interactive).
 *
 * A failed write-out (EPIPE, a full disk, EIO) is kept and returned by the stream's next fd_write
 * or fd_close, as a file system that writes back later returns it at close; the bytes of the
 * failed batch are lost, as they are there (the guest's stdio has no right to fd_sync).
 *
 * Layout (one SharedArrayBuffer): Int32 control words, then the data area; records are appended
 * at USED: a u32 header (length × 4 + stream) and the bytes. OWNER is the lock: whoever holds it
 * may append or write out; records before WRITTEN (and PARTIAL bytes of the one at WRITTEN) are
 * written already.
 */
import { fstatSync, statSync, writevSync } from 'node:fs';
import { errnoOf, nodeErrorCode, WasiError } from './errno.js';
import type { GuestMemory } from './memory.js';
import { IOV_MAX, writevAll } from './stdio.js';

const USED = 0;
const OWNER = 1;
/** Set by the main thread before it sleeps; a worker append that sees it wakes it. */
const SLEEPING = 2;
/** Where the records not yet written start (a killed worker's are not written twice; a full pipe's writes go on from there). */
const WRITTEN = 3;
/** First failed errno of stdout (ERRORS + 1) and stderr (ERRORS + 2), 0 when none. */
const ERRORS = 4;
/** Bytes of the record at WRITTEN already written (a long record a non-blocking pipe took in part). */
const PARTIAL = 7;
const CONTROL_BYTES = 32;
const FREE = 0, WORKER = 1, MAIN = 2;
const HEADER = 4;
/** The data area. A write larger than half of it goes to the file at once (after what is buffered). */
export const OUTPUT_CAPACITY = 64 * 1024;
const DIRECT = OUTPUT_CAPACITY / 2;
/** Below this many bytes a byte loop copies faster than a subarray and set(). */
const SMALL_COPY = 32;
/** Linux's limit up to which a write to a pipe is atomic. */
const PIPE_BUF = 4096;

/** A host stdout or stderr whose writes may be deferred. */
export interface OutputStream {
  fd: number;
  pipe: boolean;
}

/** What the worker needs to buffer its stdout/stderr: the shared buffer and the streams it covers. */
export interface OutputInit {
  buffer: SharedArrayBuffer;
  /** Host fds of stdout (index 1) and stderr (index 2) when buffered; -1 when written at once. */
  fds: [number, number, number];
  /** Which of them are pipes (batches cut at PIPE_BUF). */
  pipes: [boolean, boolean, boolean];
}

/** How a side of the buffer writes a stream: the worker blocks, the main thread's pipe descriptors do not. */
export interface OutputWriter {
  fd: number;
  nonblocking: boolean;
}

/** The host fd as a stream that may be written behind: a regular file, /dev/null or a pipe. */
export function outputStream(fd: number): OutputStream | undefined {
  try {
    const st = fstatSync(fd);
    if (st.isFIFO()) return { fd, pipe: true };
    if (st.isFile() || (st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev)) return { fd, pipe: false };
  } catch {
    // a closed fd: let the guest's write report it
  }
  return undefined;
}

export function newOutputInit(stdout: OutputStream | undefined, stderr: OutputStream | undefined): OutputInit | undefined {
  if (stdout === undefined && stderr === undefined) return undefined;
  return {
    buffer: new SharedArrayBuffer(CONTROL_BYTES + OUTPUT_CAPACITY),
    fds: [-1, stdout?.fd ?? -1, stderr?.fd ?? -1],
    pipes: [false, stdout?.pipe ?? false, stderr?.pipe ?? false],
  };
}

/** What tryWriteOut did: wrote everything, found the worker holding the buffer, or stopped at a full pipe. */
export type WriteOutcome = 'written' | 'busy' | 'pipe full';

/** The shared buffer as seen from either thread. */
export class OutputRing {
  readonly control: Int32Array;
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly fds: [number, number, number];
  private readonly pipes: [boolean, boolean, boolean];
  private readonly writers: OutputWriter[];

  /** `writers`: the main thread's, per stream; the worker writes to `init.fds`, blocking. */
  constructor(init: OutputInit, writers?: OutputWriter[]) {
    this.control = new Int32Array(init.buffer, 0, CONTROL_BYTES / 4);
    this.data = new Uint8Array(init.buffer, CONTROL_BYTES);
    this.view = new DataView(init.buffer, CONTROL_BYTES);
    this.fds = init.fds;
    this.pipes = init.pipes;
    this.writers = writers ?? init.fds.map((fd) => ({ fd, nonblocking: false }));
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
        this.writeDirect(stream, mem, iovs, count, total);
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

  /** Writes what is buffered, unless the worker holds the buffer; stops where a pipe is full. */
  tryWriteOut(): WriteOutcome {
    if (Atomics.compareExchange(this.control, OWNER, FREE, MAIN) !== FREE) return 'busy';
    try {
      return this.writeOut() ? 'written' : 'pipe full';
    } finally {
      this.unlock();
    }
  }

  /**
   * After the worker is gone: writes out the complete records it left, whoever held the buffer;
   * false when a pipe is full (call again later: it goes on from there).
   */
  writeOutAbandoned(): boolean {
    Atomics.store(this.control, OWNER, MAIN);
    const done = this.writeOut();
    this.unlock();
    return done;
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

  /**
   * With the buffer held: writes the records not yet written, consecutive ones of a stream in one
   * writev (for a pipe, whole records of up to PIPE_BUF bytes together), and empties the buffer;
   * false, with the progress kept, when a non-blocking pipe is full.
   */
  private writeOut(): boolean {
    const used = Atomics.load(this.control, USED);
    let at = Atomics.load(this.control, WRITTEN);
    let skip = Atomics.load(this.control, PARTIAL);
    while (at < used) {
      const stream = this.view.getUint32(at, true) & 3;
      const limit = this.pipes[stream] ? PIPE_BUF : Infinity;
      const slices: Uint8Array[] = [];
      let bytes = 0;
      let end = at;
      while (end < used && slices.length < IOV_MAX) {
        const header = this.view.getUint32(end, true);
        const len = header >>> 2;
        if ((header & 3) !== stream || (slices.length > 0 && bytes + len > limit)) break;
        const from = end === at ? skip : 0;
        slices.push(this.data.subarray(end + HEADER + from, end + HEADER + len));
        bytes += len - from;
        end += HEADER + len;
      }
      const written = this.writeSlices(stream, slices, bytes);
      if (written < bytes) {
        [at, skip] = this.advance(at, skip, written);
        Atomics.store(this.control, WRITTEN, at);
        Atomics.store(this.control, PARTIAL, skip);
        return false;
      }
      at = end;
      skip = 0;
      Atomics.store(this.control, WRITTEN, at);
      Atomics.store(this.control, PARTIAL, 0);
    }
    Atomics.store(this.control, USED, 0);
    Atomics.store(this.control, WRITTEN, 0);
    return true;
  }

  /** The record and offset `written` bytes past (at, skip); within the records just tried. */
  private advance(at: number, skip: number, written: number): [number, number] {
    for (;;) {
      const left = (this.view.getUint32(at, true) >>> 2) - skip;
      if (written < left) return [at, skip + written];
      written -= left;
      at += HEADER + left + skip;
      skip = 0;
    }
  }

  private writeDirect(stream: number, mem: GuestMemory, iovs: number, count: number, total: number): void {
    this.writeSlices(stream, mem.iovecs(iovs, count).map((v) => mem.u8.subarray(v.buf, v.buf + v.len)), total);
  }

  /**
   * Writes the slices (`bytes` in all) to the stream; returns how many bytes it took: all, unless
   * the writer is a non-blocking pipe that is full. A failure is kept for the stream and the slices
   * dropped (counted as taken).
   */
  private writeSlices(stream: number, slices: Uint8Array[], bytes: number): number {
    const { fd, nonblocking } = this.writers[stream]!;
    try {
      if (!nonblocking) {
        writevAll(fd, slices);
        return bytes;
      }
      return writevSync(fd, slices);
    } catch (error) {
      if (nonblocking && nodeErrorCode(error) === 'EAGAIN') return 0;
      Atomics.compareExchange(this.control, ERRORS + stream, 0, errnoOf(error));
      return bytes;
    }
  }
}
