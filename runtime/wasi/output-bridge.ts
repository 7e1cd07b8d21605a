/**
 * The main thread's part of stdout/stderr write-behind (output-ring.ts): writes what the guest's
 * worker buffered about a millisecond after it starts to arrive, so output reaches its file or
 * pipe while the guest computes without making any other call. It sleeps while the guest writes
 * nothing, and never blocks on a pipe: it writes pipes through a non-blocking descriptor of its own.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { newOutputInit, OutputRing, outputStream, type OutputInit, type OutputStream, type OutputWriter } from './output-ring.js';
import type { StdioSpec } from './types.js';

/** How long appends gather before the main thread writes them: one write per batch, not per call. */
const BATCH_MS = 1;
/** While a pipe stays full, the next try comes after twice the last wait, up to this. */
const MAX_RETRY_MS = 32;

export class OutputBridge {
  readonly init: OutputInit;
  readonly #ring: OutputRing;
  /** The non-blocking pipe descriptors this bridge opened (closed when it is done). */
  readonly #opened: number[];
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  /** A bridge when stdout or stderr can be written behind (output-ring.ts); undefined when neither can. */
  static for(stdio: StdioSpec): OutputBridge | undefined {
    const streams = [stdio.stdout, stdio.stderr].map(outputStream);
    const writers = streams.map((stream) => stream && mainWriter(stream));
    // A stream the main thread cannot write (a pipe it cannot open for itself) is written at once.
    const init = newOutputInit(writers[0] && streams[0], writers[1] && streams[1]);
    const none: OutputWriter = { fd: -1, nonblocking: false };
    return init && new OutputBridge(init, [none, ...writers.map((w) => w ?? none)]);
  }

  private constructor(init: OutputInit, writers: OutputWriter[]) {
    this.init = init;
    this.#ring = new OutputRing(init, writers);
    this.#opened = writers.filter((w) => w.nonblocking).map((w) => w.fd);
    this.#sleep();
  }

  /** Writes out what is buffered now, as far as it can without blocking, unless the worker is using the buffer. */
  flush(): void {
    if (!this.#closed) this.#ring.tryWriteOut();
  }

  /**
   * The worker is gone (ended, failed or killed): writes the complete records it left, waiting for
   * a full pipe's reader if it must. A worker that ended normally wrote everything before it
   * reported, so this finds the buffer empty.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ring.cancelWait();
    this.#finish(BATCH_MS);
  }

  #finish(waitMs: number): void {
    if (this.#ring.writeOutAbandoned()) {
      for (const fd of this.#opened) closeSync(fd);
    } else {
      this.#timer = setTimeout(() => this.#finish(Math.min(waitMs * 2, MAX_RETRY_MS)), waitMs);
    }
  }

  #sleep(): void {
    void this.#ring.whenPending().then(() => {
      if (!this.#closed) this.#timer = setTimeout(() => this.#writeOut(BATCH_MS), BATCH_MS).unref();
    });
  }

  #writeOut(waitMs: number): void {
    if (this.#closed) return;
    switch (this.#ring.tryWriteOut()) {
      case 'written':
        return this.#sleep();
      case 'busy': // the worker appends or writes out itself at this moment
        this.#timer = setTimeout(() => this.#writeOut(BATCH_MS), BATCH_MS).unref();
        return;
      case 'pipe full': // its reader is slow; the worker writes out itself, blocking, when it needs the room
        this.#timer = setTimeout(() => this.#writeOut(Math.min(waitMs * 2, MAX_RETRY_MS)), waitMs).unref();
    }
  }
}

/**
 * How the main thread writes a stream: a file through the guest's own fd; a pipe through a
 * non-blocking descriptor it opens for it (Linux's /proc/self/fd), so that the flag does not reach
 * the descriptor the guest, the worker and other processes share. Undefined when that cannot be
 * opened (no /proc, or the pipe has no reader left): the stream is written at once.
 */
function mainWriter(stream: OutputStream): OutputWriter | undefined {
  if (!stream.pipe) return { fd: stream.fd, nonblocking: false };
  try {
    return { fd: openSync(`/proc/self/fd/${stream.fd}`, constants.O_WRONLY | constants.O_NONBLOCK), nonblocking: true };
  } catch {
    return undefined;
  }
}
