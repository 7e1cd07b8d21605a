/**
 * A mounted directory tree as the WASI host sees it. Paths given to a backend are already
 * normalized by the host (see path.ts): relative to the mount root, no "." or "..", no leading
 * or doubled "/", "" for the root itself. Failures are thrown as WasiError or Node system errors.
 */
import type { Filestat } from '../wasi/defs.js';

export interface DirEntry {
  name: string;
  filetype: number;
  ino: bigint;
}

/** What fd_readdir lists: the inodes of "." and ".." and the other entries, sorted by name. */
export interface DirListing {
  self: bigint;
  parent: bigint;
  entries: DirEntry[];
}

export interface OpenOptions {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  /** Fail with NOTDIR unless the path is a directory. */
  directory: boolean;
  /** Follow a symlink in the last path component (intermediate ones are always followed). */
  follow: boolean;
}

/** Access wanted when re-opening a file on thaw: never creates or truncates. */
export interface ReopenOptions {
  read: boolean;
  write: boolean;
}

/**
 * An open regular file. Positional only: the guest-visible offset lives in the handle. Reads and
 * writes take (buffer, offset, length) rather than a subarray, which would cost an object per call.
 */
export interface FileIO {
  /** Reads up to `length` bytes at file position `position` into buffer[offset…]. */
  pread(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes buffer[offset, offset+length) at file position `position`, all of it. */
  pwrite(buffer: Uint8Array, offset: number, length: number, position: number): number;
  stat(): Filestat;
  truncate(size: number): void;
  /** undefined leaves that time unchanged. Nanoseconds since the epoch. */
  setTimes(atim: bigint | undefined, mtim: bigint | undefined): void;
  sync(): void;
  close(): void;
}

/**
 * A file's inode is `io.stat().ino` (asked for only when a snapshot records it). `mayBeDirectory`:
 * a read-only open of something not known to be a regular file, which may be a directory
 * (`io.stat()` tells): hostfs leaves that to whoever needs to know, as an fstat costs about as
 * much as the open itself.
 */
export type Opened = { kind: 'dir' } | { kind: 'file'; io: FileIO; mayBeDirectory: boolean };

export interface Backend {
  stat(path: string, follow: boolean): Filestat;
  open(path: string, options: OpenOptions): Opened;
  /**
   * Re-binds a file handle after a thaw. `ino` is the inode recorded at capture: memfs uses it
   * (so an open-but-unlinked file survives); host backends re-open by path.
   */
  reopen(path: string, ino: bigint, options: ReopenOptions): Opened;
  /** Sorted by name so fd_readdir cookies are stable. */
  readdir(path: string): DirListing;
  mkdir(path: string): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  link(from: string, to: string): void;
  symlink(target: string, path: string): void;
  readlink(path: string): string;
  setTimes(path: string, follow: boolean, atim: bigint | undefined, mtim: bigint | undefined): void;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
