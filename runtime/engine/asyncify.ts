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
/** Upper bound for the borrowed area: the unwound stack of deep programs fits many times over. */
const MAX_BUFFER_BYTES = 1 << 20;

/**
 * Asyncify needs a data area inside linear memory while it unwinds or rewinds. Growing memory for it
 * would be visible to the guest (memory.size) and end up in the snapshot, so instead we borrow the top
 * of memory: save its bytes, let Asyncify use it, and put them back before any guest code runs again.
 * Only the bytes Asyncify actually wrote need restoring. When the area is all zero (common: unused
 * heap), nothing is copied at all.
 */
export class BorrowedBuffer {
  readonly #memory: WebAssembly.Memory;
  #start = 0;
  /** Where the guest's bytes are kept while the area is borrowed; reused so repeated freezes allocate nothing. */
  #save: Uint8Array | null = null;
  /** The area was all zero when borrowed: giving it back is a fill, not a copy. */
  #wasZero = false;
  #touchedEnd = 0;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
  }

  /** Borrows the area and writes Asyncify's header; returns the pointer to pass to Asyncify. */
  borrow(initialData?: Uint8Array): number {
    const bytes = new Uint8Array(this.#memory.buffer);
    const size = Math.min(MAX_BUFFER_BYTES, bytes.length >>> 1) & ~7;
    const dataLength = initialData?.length ?? 0;
    if (dataLength + HEADER_BYTES > size) {
      throw new WmigError('INTERNAL', `unwound stack (${dataLength} bytes) does not fit the ${size}-byte Asyncify area`);
    }
    this.#start = bytes.length - size;
    // An unwind may write anywhere in the area; a rewind only touches the header and the data it is given.
    const saved = bytes.subarray(this.#start, this.#start + (initialData ? HEADER_BYTES + dataLength : size));
    this.#wasZero = isAllZero(saved);
    if (!this.#wasZero) {
      // Sized to need: a rewind saves a few hundred bytes, and a fresh 1 MiB allocation right after
      // a big memory.grow is what tips V8 into a garbage collection during the thaw.
      if (!this.#save || this.#save.length < saved.length) this.#save = new Uint8Array(saved.length);
      this.#save.set(saved);
    }
    const view = new DataView(this.#memory.buffer);
    const dataStart = this.#start + HEADER_BYTES;
    if (initialData) bytes.set(initialData, dataStart);
    // A rewind reads frames backwards from `current`, so it starts at the end of the data.
    view.setUint32(this.#start, dataStart + dataLength, true);
    view.setUint32(this.#start + 4, this.#start + size, true);
    this.#touchedEnd = dataStart + dataLength;
    return this.#start;
  }

  /** The frames Asyncify wrote while unwinding (a copy: the area is given back right after). */
  unwoundData(): Uint8Array {
    const dataStart = this.#start + HEADER_BYTES;
    return new Uint8Array(this.#memory.buffer, dataStart, this.#current() - dataStart).slice();
  }

  /** Gives the area back: restores exactly what the guest had there. */
  release(): void {
    // An unwind wrote up to `current`; a rewind only read below what borrow() wrote.
    const touchedEnd = Math.max(this.#touchedEnd, this.#current());
    const bytes = new Uint8Array(this.#memory.buffer);
    const touched = bytes.subarray(this.#start, touchedEnd);
    if (this.#wasZero) touched.fill(0);
    else touched.set(this.#save!.subarray(0, touched.length));
  }

  #current(): number {
    return new DataView(this.#memory.buffer).getUint32(this.#start, true);
  }
}

/** A zero area to compare against: Buffer.equals is a memcmp, far faster than a JS loop. */
const ZEROS = Buffer.alloc(MAX_BUFFER_BYTES);

function isAllZero(area: Uint8Array): boolean {
  return Buffer.from(area.buffer, area.byteOffset, area.length).equals(ZEROS.subarray(0, area.length));
}
