// Byte-level encoding shared by the binary rewriters (append, module-edit, preempt, reserve, fast paths).

/** A growable byte buffer for re-encoding modules (a JS number[] per byte is slow on 30 MB modules). */
export class ByteWriter {
  #buf = new Uint8Array(1 << 16);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  byte(b: number): this {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
    return this;
  }

  bytes(b: ArrayLike<number>): this {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  u32(n: number): this {
    return this.bytes(uleb(n));
  }

  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u32(utf8.length).bytes(utf8);
  }

  /** A section: id, payload size, payload. */
  section(id: number, payload: Uint8Array): this {
    return this.byte(id).u32(payload.length).bytes(payload);
  }

  /** The bytes written so far (a view: copy it before writing more if it must be kept). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  reset(): void {
    this.#len = 0;
  }
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A vector section's payload (src[start, end)) with its count raised by `added` and `extra` appended. */
export function appendToVector(src: Uint8Array, start: number, end: number, extra: ArrayLike<number>, added = 1): Uint8Array {
  let p = start;
  let count = 0, shift = 0, b: number;
  do { b = src[p++]!; count += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return new ByteWriter().u32(count + added).bytes(src.subarray(p, end)).bytes(extra).view();
}
