/** Typed, bounds-checked access to the guest's linear memory for the WASI calls. */
import { ERRNO, SIZEOF, readIovecs, type Iovec } from './defs.js';
import { WasiError } from './errno.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class GuestMemory {
  private memory: WebAssembly.Memory | undefined;
  /** Views of memory.buffer, re-created whenever memory.grow replaced the buffer. */
  private buffer: ArrayBuffer | undefined;
  dv = new DataView(new ArrayBuffer(0));
  u8 = new Uint8Array(0);

  set(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.buffer = undefined;
  }

  /** Refreshes the views; called before every WASI call. */
  view(): void {
    if (this.memory === undefined) throw new Error('WasiHost: setMemory() was not called');
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this.dv = new DataView(this.buffer);
      this.u8 = new Uint8Array(this.buffer);
    }
  }

  /** A view of guest memory [ptr, ptr+len); FAULT when out of bounds (subarray would clamp silently). */
  bytes(ptr: number, len: number): Uint8Array {
    if (ptr + len > this.u8.length) throw new WasiError(ERRNO.FAULT, `memory access out of bounds: ${ptr}+${len}`);
    return this.u8.subarray(ptr, ptr + len);
  }

  string(ptr: number, len: number): string {
    try {
      return utf8Strict.decode(this.bytes(ptr, len));
    } catch (e) {
      if (e instanceof WasiError) throw e;
      throw new WasiError(ERRNO.ILSEQ, 'path is not UTF-8');
    }
  }

  iovecs(ptr: number, count: number): Iovec[] {
    this.bytes(ptr, count * SIZEOF.iovec);
    const iovs = readIovecs(this.dv, ptr, count);
    for (const v of iovs) this.bytes(v.buf, v.len);
    return iovs;
  }

  putU32(ptr: number, v: number): void {
    this.bytes(ptr, 4);
    this.dv.setUint32(ptr, v, true);
  }

  putU64(ptr: number, v: bigint): void {
    this.bytes(ptr, 8);
    this.dv.setBigUint64(ptr, v, true);
  }
}

/** Reads into one temporary buffer as large as all iovecs, then copies the bytes read out to them. */
export function scatter(mem: Uint8Array, iovs: Iovec[], read: (tmp: Uint8Array) => number): number {
  if (iovs.length === 1) return read(mem.subarray(iovs[0]!.buf, iovs[0]!.buf + iovs[0]!.len));
  const tmp = new Uint8Array(iovs.reduce((sum, v) => sum + v.len, 0));
  const n = read(tmp);
  let at = 0;
  for (const v of iovs) {
    if (at >= n) break;
    const take = Math.min(v.len, n - at);
    mem.set(tmp.subarray(at, at + take), v.buf);
    at += take;
  }
  return n;
}

/** Concatenates the iovecs' bytes (for sends that must be one buffer). */
export function gather(mem: Uint8Array, iovs: Iovec[]): Uint8Array {
  const out = new Uint8Array(iovs.reduce((sum, v) => sum + v.len, 0));
  let at = 0;
  for (const v of iovs) {
    out.set(mem.subarray(v.buf, v.buf + v.len), at);
    at += v.len;
  }
  return out;
}
