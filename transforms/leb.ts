// LEB128 encoders and byte-array helpers shared by the binary rewriters (preempt, reserve).

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

export function push2(dst: number[], src: ArrayLike<number>): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}

/** A vector section's payload (src[start, end)) with its count raised by `added` and `extra` appended. */
export function appendToVector(src: Uint8Array, start: number, end: number, extra: number[], added = 1): number[] {
  let p = start;
  let count = 0, shift = 0, b: number;
  do { b = src[p++]!; count += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return [...uleb(count + added), ...src.subarray(p, end), ...extra];
}
