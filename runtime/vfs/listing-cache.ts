/**
 * Directory listings of a host mount, reused while the directory is unchanged: a listing costs a
 * readdir plus an lstat per entry (for d_ino), checking one costs the directory's own stat.
 * Unchanged means the same device, inode, size, link count, mtime and ctime. File systems stamp
 * times from a coarse clock (a tick of up to 10 ms on Linux), so a change within the tick of the
 * last one could leave them all equal: a listing is kept only when the directory had not changed
 * for RACY_NS before it was read (git's "racy" rule for its index).
 */
import type fs from 'node:fs';
import type { DirListing } from './backend.js';

const RACY_NS = 100_000_000n;
const MAX_LISTINGS = 64;

export class ListingCache {
  private readonly listings = new Map<string, { key: string; listing: DirListing }>();

  /** The listing of directory `path`, whose stat `st` was taken before this call; `read` lists it afresh. */
  get(path: string, st: fs.BigIntStats, read: () => DirListing): DirListing {
    const key = `${st.dev}:${st.ino}:${st.size}:${st.nlink}:${st.mtimeNs}:${st.ctimeNs}`;
    const cached = this.listings.get(path);
    if (cached !== undefined && cached.key === key) return cached.listing;
    const listing = read();
    this.listings.delete(path);
    const lastChange = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    if (BigInt(Date.now()) * 1_000_000n - lastChange > RACY_NS) {
      this.listings.set(path, { key, listing });
      // Oldest first: Map keeps insertion order.
      if (this.listings.size > MAX_LISTINGS) this.listings.delete(this.listings.keys().next().value!);
    }
    return listing;
  }
}
