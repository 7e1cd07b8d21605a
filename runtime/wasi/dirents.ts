/** fd_readdir's output: a listing's dirents, encoded once and copied into guest memory. */
import type { DirListing } from '../vfs/backend.js';
import { FILETYPE, SIZEOF, writeDirentHeader } from './defs.js';
import type { GuestMemory } from './memory.js';

/** All dirents of a listing back to back; dirent i starts at offsets[i], and offsets ends with the total. */
interface EncodedListing {
  bytes: Uint8Array;
  offsets: number[];
}

const utf8 = new TextEncoder();
/** A backend that reuses an unchanged listing (hostfs) gets its encoding reused too. */
const encodings = new WeakMap<DirListing, EncodedListing>();

/** "." is dirent 0, ".." 1, then the entries; each dirent's d_next (its cookie) is its index + 1. */
function encode(listing: DirListing): EncodedListing {
  const all = [
    { name: '.', ino: listing.self, filetype: FILETYPE.DIRECTORY },
    { name: '..', ino: listing.parent, filetype: FILETYPE.DIRECTORY },
    ...listing.entries,
  ];
  const names = all.map((e) => utf8.encode(e.name));
  const bytes = new Uint8Array(names.reduce((sum, n) => sum + SIZEOF.dirent + n.length, 0));
  const dv = new DataView(bytes.buffer);
  const offsets: number[] = [];
  let at = 0;
  all.forEach((e, i) => {
    offsets.push(at);
    writeDirentHeader(dv, at, BigInt(i + 1), e.ino, e.filetype, names[i]!.length);
    bytes.set(names[i]!, at + SIZEOF.dirent);
    at += SIZEOF.dirent + names[i]!.length;
  });
  offsets.push(at);
  return { bytes, offsets };
}

/**
 * Copies the dirents from index `cookie` on into guest memory [buf, buf+len) and returns the bytes
 * used. The last dirent may be cut off at the end of the buffer: libc then retries with a bigger one.
 */
export function putDirents(mem: GuestMemory, buf: number, len: number, listing: DirListing, cookie: number): number {
  mem.check(buf, len);
  let encoded = encodings.get(listing);
  if (encoded === undefined) {
    encoded = encode(listing);
    encodings.set(listing, encoded);
  }
  const { bytes, offsets } = encoded;
  if (cookie >= offsets.length - 1) return 0;
  const from = offsets[cookie]!;
  const n = Math.min(len, bytes.length - from);
  mem.u8.set(bytes.subarray(from, from + n), buf);
  return n;
}
