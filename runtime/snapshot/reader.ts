/** Decoding primitives: the corruption error and a bounds-checked reader over section payloads. */
import { WmigError } from '../errors.js';

/** Strict: invalid UTF-8 in a snapshot is corruption, never silently replaced. */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function corrupt(message: string): WmigError {
  return new WmigError('CORRUPT_SNAPSHOT', `corrupt snapshot: ${message}`);
}

/** A bounds-checked little-endian reader over one section's payload. */
export class Reader {
  private readonly view: DataView;
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    private readonly section: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }
  private take(n: number, what: string): number {
    if (n > this.end - this.pos) {
      throw corrupt(
        `section ${this.section}: ${what} (${n} bytes at payload offset ${this.pos - this.start}) runs past the section end (payload is ${this.end - this.start} bytes)`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(what: string): number {
    return this.view.getUint8(this.take(1, what));
  }
  u16(what: string): number {
    return this.view.getUint16(this.take(2, what), true);
  }
  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }
  /** A u64 as a number; values beyond 2^53 are reported as corruption (no snapshot is that big). */
  u64(what: string): number {
    const at = this.take(8, what);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`section ${this.section}: ${what} ${v} is out of range`);
    return Number(v);
  }
  u64big(what: string): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }
  bytesView(n: number, what: string): Uint8Array {
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }
  dataView8(what: string): DataView {
    const at = this.take(8, what);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + at, 8);
  }
  utf8(n: number, what: string): string {
    const b = this.bytesView(n, what);
    try {
      return utf8Decoder.decode(b);
    } catch {
      throw corrupt(`section ${this.section}: ${what} is not valid UTF-8`);
    }
  }
  expectEnd(): void {
    if (this.pos !== this.end) {
      throw corrupt(`section ${this.section}: ${this.end - this.pos} unexpected bytes after the last field`);
    }
  }
}
