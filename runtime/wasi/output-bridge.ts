/**
 * The main thread's part of stdout/stderr write-behind (output-ring.ts): writes what the guest's
 * worker buffered about a millisecond after it starts to arrive, so output reaches its file while
 * the guest computes without making any other call. It sleeps while the guest writes nothing.
 */
import { newOutputInit, OutputRing, type OutputInit } from './output-ring.js';
import type { StdioSpec } from './types.js';

/** How long appends gather before the main thread writes them: one write per batch, not per call. */
const BATCH_MS = 1;

export class OutputBridge {
  readonly init: OutputInit;
  readonly #ring: OutputRing;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  /** A bridge when stdout or stderr is a regular file or /dev/null; undefined when neither is. */
  static for(stdio: StdioSpec): OutputBridge | undefined {
    const init = newOutputInit(stdio.stdout, stdio.stderr);
    return init && new OutputBridge(init);
  }

  private constructor(init: OutputInit) {
    this.init = init;
    this.#ring = new OutputRing(init);
    this.#sleep();
  }

  /** Writes out what is buffered now, unless the worker is appending or writing out itself at this moment. */
  flush(): void {
    if (!this.#closed) this.#ring.tryWriteOut();
  }

  /**
   * The worker is gone (ended, failed or killed): writes the complete records it left. A worker
   * that ended normally wrote everything before it reported, so this finds the buffer empty.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ring.cancelWait();
    this.#ring.writeOutAbandoned();
  }

  #sleep(): void {
    void this.#ring.whenPending().then(() => {
      if (!this.#closed) this.#timer = setTimeout(() => this.#writeOut(), BATCH_MS).unref();
    });
  }

  #writeOut(): void {
    if (this.#closed) return;
    // The worker holds the buffer only while it appends or writes out itself: try again shortly.
    if (!this.#ring.tryWriteOut()) this.#timer = setTimeout(() => this.#writeOut(), BATCH_MS).unref();
    else this.#sleep();
  }
}
