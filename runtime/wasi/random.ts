/** random_get's source: the system's CSPRNG, or (deterministic mode) a seeded stream carried in the snapshot. */
import crypto from 'node:crypto';

export interface Entropy {
  fill(dst: Uint8Array): void;
}

export const SYSTEM_ENTROPY: Entropy = {
  fill: (dst) => {
    crypto.randomFillSync(dst);
  },
};

/**
 * SHA-256 in counter mode over the seed: block i = sha256(seed ":" i). `position` counts the bytes
 * handed out so far, so (seed, position) is the whole state.
 */
export class SeededEntropy implements Entropy {
  private cacheIndex = -1;
  private cache = new Uint8Array(0);

  constructor(readonly seed: string, public position = 0) {}

  private block(i: number): Uint8Array {
    if (i !== this.cacheIndex) {
      this.cache = crypto.createHash('sha256').update(`${this.seed}:${i}`).digest();
      this.cacheIndex = i;
    }
    return this.cache;
  }

  fill(dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const b = this.block(Math.floor(this.position / 32));
      const at = this.position % 32;
      const take = Math.min(32 - at, dst.length - done);
      dst.set(b.subarray(at, at + take), done);
      done += take;
      this.position += take;
    }
  }
}
