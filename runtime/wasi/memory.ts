/** Typed, bounds-checked access to the guest's linear memory for the WASI calls. */
import { ERRNO, SIZEOF, readIovecs, type Iovec } from './defs.js';
import { WasiError } from './errno.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const SHORT_STRING = 256;
/** Wasm memory is little-endian: a typed array may alias it only on a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class GuestMemory {
  private memory: WebAssembly.Memory | undefined;
  dv = new DataView(new ArrayBuffer(0));
  u8 = new Uint8Array(0);
  /** For aligned u64 stores: a typed-array store is much cheaper than DataView.setBigUint64. */
  private u64 = new BigUint64Array(0);

  set(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.refresh();
  }

  /**
   * Throws FAULT unless [ptr, ptr+len) lies in guest memory. Every call checks before it touches
   * `u8` or `dv`, which is also what keeps them current: memory.grow detaches the old buffer, its
   * views then have length 0, and `>=` sends even an empty range at 0 to refresh them. (Asking the
   * views whether they are stale on every call cost ~20 ns: a typed array's byteLength over wasm
   * memory is not inlined.)
   */
  check(ptr: number, len: number): void {
    if (ptr + len >= this.u8.length) this.refreshOrFault(ptr, len);
  }

  /** A view of guest memory [ptr, ptr+len); FAULT when out of bounds (subarray would clamp silently). */
  bytes(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    return this.u8.subarray(ptr, ptr + len);
  }

  /** A UTF-8 string (a path); ILSEQ when it is not valid UTF-8. */
  string(ptr: number, len: number): string {
    this.check(ptr, len);
    if (len <= SHORT_STRING) {
      // Short ASCII strings (most paths) are built directly: TextDecoder costs more per call.
      let s = '';
      for (let i = ptr; i < ptr + len && this.u8[i]! < 0x80; i++) s += String.fromCharCode(this.u8[i]!);
      if (s.length === len) return s;
    }
    try {
      return utf8Strict.decode(this.u8.subarray(ptr, ptr + len));
    } catch (e) {
      if (e instanceof WasiError) throw e;
      throw new WasiError(ERRNO.ILSEQ, 'path is not UTF-8');
    }
  }

  /**
   * Throws FAULT unless the `count` iovecs at `ptr`, and every buffer they name, lie in guest
   * memory: a call checks them all before it has any effect. The hot calls then read them in place
   * (iovecBuf, iovecLen), without an array per call.
   */
  checkIovecs(ptr: number, count: number): void {
    this.check(ptr, count * SIZEOF.iovec);
    for (let i = 0; i < count; i++) this.check(this.iovecBuf(ptr, i), this.iovecLen(ptr, i));
  }

  iovecBuf(ptr: number, i: number): number {
    return this.dv.getUint32(ptr + i * SIZEOF.iovec, true);
  }

  iovecLen(ptr: number, i: number): number {
    return this.dv.getUint32(ptr + i * SIZEOF.iovec + 4, true);
  }

  /** The iovecs as a list, checked (for the calls that gather or scatter through one buffer). */
  iovecs(ptr: number, count: number): Iovec[] {
    this.checkIovecs(ptr, count);
    return readIovecs(this.dv, ptr, count);
  }

  putU32(ptr: number, v: number): void {
    this.check(ptr, 4);
    this.dv.setUint32(ptr, v, true);
  }

  putU64(ptr: number, v: bigint): void {
    this.check(ptr, 8);
    if ((ptr & 7) === 0 && LITTLE_ENDIAN) this.u64[ptr >>> 3] = v;
    else this.dv.setBigUint64(ptr, v, true);
  }

  /**
   * check()'s rare path, kept out of it so that check stays small enough for V8 to inline into
   * every call (it stops inlining once a call's inlined code passes a size budget).
   */
  private refreshOrFault(ptr: number, len: number): void {
    this.refresh(); // also for a memory that grows without detaching (shared): old views stay valid but short
    if (ptr + len > this.u8.length) throw new WasiError(ERRNO.FAULT, `memory access out of bounds: ${ptr}+${len}`);
  }

  private refresh(): void {
    if (this.memory === undefined) throw new Error('WasiHost: setMemory() was not called');
    const buffer = this.memory.buffer;
    this.dv = new DataView(buffer);
    this.u8 = new Uint8Array(buffer);
    this.u64 = new BigUint64Array(buffer, 0, buffer.byteLength >>> 3);
  }
}

/** The total length of some iovecs. */
export const iovecsLength = (iovs: Iovec[]) => iovs.reduce((sum, v) => sum + v.len, 0);

/** Reads into one temporary buffer as large as all iovecs, then copies the bytes read out to them. */
export function scatter(mem: Uint8Array, iovs: Iovec[], read: (tmp: Uint8Array) => number): number {
  if (iovs.length === 1) return read(mem.subarray(iovs[0]!.buf, iovs[0]!.buf + iovs[0]!.len));
  const tmp = new Uint8Array(iovecsLength(iovs));
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

/** Concatenates the first `limit` bytes of the iovecs (for sends that must be one buffer). */
export function gather(mem: Uint8Array, iovs: Iovec[], limit = Infinity): Uint8Array {
  const out = new Uint8Array(Math.min(iovecsLength(iovs), limit));
  let at = 0;
  for (const v of iovs) {
    const take = Math.min(v.len, out.length - at);
    out.set(mem.subarray(v.buf, v.buf + take), at);
    at += take;
  }
  return out;
}
