/** A growable little-endian writer for the small binary sections. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }
  u8(v: number): void {
    this.view.setUint8(this.reserve(1), v);
  }
  u16(v: number): void {
    this.view.setUint16(this.reserve(2), v, true);
  }
  u32(v: number): void {
    this.view.setUint32(this.reserve(4), v, true);
  }
  u64(v: number | bigint): void {
    this.view.setBigUint64(this.reserve(8), BigInt(v), true);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.reserve(b.length));
  }
  /** Reserve 8 raw bytes and give a DataView on them. */
  raw8(): DataView {
    const at = this.reserve(8);
    return new DataView(this.buf.buffer, at, 8);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
