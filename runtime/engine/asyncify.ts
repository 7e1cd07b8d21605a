import { WmigError } from '../errors.js';

/** Asyncify's state values, as returned by `asyncify_get_state`. */
export const enum AsyncifyState {
  Normal = 0,
  Unwinding = 1,
  Rewinding = 2,
}

export interface AsyncifyExports {
  asyncify_start_unwind(dataPtr: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(dataPtr: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

/** Header of Asyncify's data area: i32 current, i32 end; the frames follow it. */
const HEADER_BYTES = 8;
/** Upper bound for the area: the unwound stack of deep programs fits many times over. */
const MAX_AREA_BYTES = 1 << 20;
const PAGE_BYTES = 65536;

/**
 * Where Asyncify keeps the frames while the stack unwinds or rewinds: a region of linear memory
 * at its top, used between `borrow` and `release`, while no guest code runs. A longjmp borrows
 * and releases it once per throw, so the views over memory are kept until memory.grow replaces
 * its buffer, instead of made per call.
 */
export abstract class AsyncifyArea {
  protected readonly memory: WebAssembly.Memory;
  protected start = 0;
  /** End of what borrow() wrote; an unwind writes further, up to `current`. */
  protected touchedEnd = 0;
  #views: MemoryViews;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.#views = viewsOf(memory.buffer);
  }

  /** Takes the area and writes Asyncify's header (and the frames to rewind); returns its pointer. */
  borrow(initialData?: Uint8Array): number {
    const { bytes, view } = this.views();
    const size = this.size(bytes.length);
    const dataLength = initialData?.length ?? 0;
    if (dataLength + HEADER_BYTES > size) {
      throw new WmigError('INTERNAL', `unwound stack (${dataLength} bytes) does not fit the ${size}-byte Asyncify area`);
    }
    this.start = bytes.length - size;
    this.prepare(bytes, initialData ? HEADER_BYTES + dataLength : size);
    const dataStart = this.start + HEADER_BYTES;
    if (initialData) bytes.set(initialData, dataStart);
    // A rewind reads frames backwards from `current`, so it starts at the end of the data.
    view.setUint32(this.start, dataStart + dataLength, true);
    view.setUint32(this.start + 4, this.start + size, true);
    this.touchedEnd = dataStart + dataLength;
    return this.start;
  }

  /** The frames Asyncify wrote while unwinding (a copy: the area is given back right after). */
  unwoundData(): Uint8Array {
    return this.views().bytes.slice(this.start + HEADER_BYTES, this.current());
  }

  /** Gives the area back; guest code may run again after this. */
  release(): void {
    // An unwind wrote up to `current`; a rewind only read below what borrow() wrote.
    this.restore(this.views().bytes, this.start, Math.max(this.touchedEnd, this.current()));
  }

  /** Size of the area in a memory of `memoryBytes`. */
  protected abstract size(memoryBytes: number): number;
  /** Called before Asyncify may write the first `length` bytes of the area. */
  protected abstract prepare(bytes: Uint8Array, length: number): void;
  /** Puts back what the guest had in bytes [start, end) that Asyncify touched. */
  protected abstract restore(bytes: Uint8Array, start: number, end: number): void;

  /** Views over all of memory; new ones only after memory.grow replaced the buffer. */
  private views(): MemoryViews {
    if (this.#views.bytes.buffer !== this.memory.buffer) this.#views = viewsOf(this.memory.buffer);
    return this.#views;
  }

  private current(): number {
    return this.views().view.getUint32(this.start, true);
  }
}

interface MemoryViews {
  bytes: Uint8Array;
  view: DataView;
}

function viewsOf(buffer: ArrayBuffer): MemoryViews {
  return { bytes: new Uint8Array(buffer), view: new DataView(buffer) };
}

/**
 * The pages the transform reserved above what the guest sees (transforms/reserve.ts). The guest
 * never touches them and expects them zero once they become its own, so giving them back is a
 * fill of what Asyncify wrote: no save, no check, whatever the size.
 */
export class ReservedArea extends AsyncifyArea {
  readonly #bytes: number;

  constructor(memory: WebAssembly.Memory, pages: number) {
    super(memory);
    this.#bytes = Math.min(pages * PAGE_BYTES, MAX_AREA_BYTES);
  }

  protected size(): number {
    return this.#bytes;
  }

  protected prepare(): void {}

  protected restore(bytes: Uint8Array, start: number, end: number): void {
    bytes.fill(0, start, end);
  }
}

/**
 * For modules without reserved pages (instrumented by transform version 2, embedded in older
 * snapshots): the area is the top of the guest's own memory, so its bytes are saved before
 * Asyncify uses it and put back after. When the area is all zero (common: unused heap), nothing
 * is copied at all.
 */
export class BorrowedArea extends AsyncifyArea {
  /** Where the guest's bytes are kept while the area is borrowed; reused so repeated freezes allocate nothing. */
  #save: Uint8Array | null = null;
  /** The area was all zero when borrowed: giving it back is a fill, not a copy. */
  #wasZero = false;

  protected size(memoryBytes: number): number {
    return Math.min(MAX_AREA_BYTES, memoryBytes >>> 1) & ~7;
  }

  protected prepare(bytes: Uint8Array, length: number): void {
    const saved = bytes.subarray(this.start, this.start + length);
    this.#wasZero = isAllZero(saved);
    if (this.#wasZero) return;
    // Sized to need: a rewind saves a few hundred bytes, and a fresh 1 MiB allocation right after
    // a big memory.grow is what tips V8 into a garbage collection during the thaw.
    if (!this.#save || this.#save.length < saved.length) this.#save = new Uint8Array(saved.length);
    this.#save.set(saved);
  }

  protected restore(bytes: Uint8Array, start: number, end: number): void {
    if (this.#wasZero) bytes.fill(0, start, end);
    else bytes.set(this.#save!.subarray(0, end - start), start);
  }
}

/** A zero area to compare against: Buffer.equals is a memcmp, far faster than a JS loop. */
const ZEROS = Buffer.alloc(MAX_AREA_BYTES);

function isAllZero(area: Uint8Array): boolean {
  return Buffer.from(area.buffer, area.byteOffset, area.length).equals(ZEROS.subarray(0, area.length));
}
