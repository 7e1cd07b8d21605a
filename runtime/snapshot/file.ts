/**
 * Snapshot files on disk: atomic write (temp file + fsync + rename) and validated read.
 * The format itself lives in format.ts (see FORMAT.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WmigError } from '../errors.js';
import { decodeSnapshot, encodeSnapshot } from './format.js';
import type { Snapshot, SnapshotInput } from './types.js';

/** Most iovecs passed to one writev call (POSIX IOV_MAX is at least 1024 on every platform we run on). */
const MAX_IOVECS = 1024;

function describeCause(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.message === 'string') return err.message;
  return String(e);
}

/** Write every chunk to `fd`, handling short writes. */
function writeAll(fd: number, chunks: readonly Uint8Array[]): number {
  let written = 0;
  let i = 0;
  let first: Uint8Array | undefined; // the rest of a partially written chunk
  while (i < chunks.length) {
    const batch: Uint8Array[] = [];
    let batchBytes = 0;
    for (let k = i; k < chunks.length && batch.length < MAX_IOVECS; k++) {
      const c = k === i && first ? first : chunks[k]!;
      batch.push(c);
      batchBytes += c.byteLength;
    }
    let n = fs.writevSync(fd, batch);
    written += n;
    if (n === batchBytes) {
      i += batch.length;
      first = undefined;
      continue;
    }
    if (n === 0 && batchBytes > 0) throw new Error('write made no progress');
    // Short write: skip the fully written chunks, keep the remainder of the partial one.
    for (const c of batch) {
      if (n >= c.byteLength) {
        n -= c.byteLength;
        i++;
        first = undefined;
      } else {
        first = c.subarray(n);
        break;
      }
    }
  }
  return written;
}

/**
 * Write a snapshot to `filePath` atomically: the chunks go to `.<name>.<pid>.<random>.tmp` in the
 * same directory, which is fsynced, closed and renamed over `filePath` (then the directory is
 * fsynced, best effort). On failure the temp file is removed, any previous `filePath` is left
 * untouched, and WmigError CANT_WRITE is thrown. Returns the number of bytes written.
 */
export function writeSnapshotFile(filePath: string, input: SnapshotInput): number {
  // Encoding errors are bugs (INTERNAL), not write failures: they happen before any file exists.
  return writeChunksAtomically(filePath, encodeSnapshot(input));
}

/**
 * Write already-encoded snapshot bytes (one buffer, or the chunks of `encodeSnapshot`) to
 * `filePath`, atomically and with the same failure guarantees as `writeSnapshotFile`. The bytes
 * are written as given, not validated. Returns the number of bytes written.
 */
export function writeSnapshotBytes(filePath: string, bytes: Uint8Array | readonly Uint8Array[]): number {
  return writeChunksAtomically(filePath, bytes instanceof Uint8Array ? [bytes] : bytes);
}

function writeChunksAtomically(filePath: string, chunks: readonly Uint8Array[]): number {
  const dir = path.dirname(filePath);
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    created = true;
    const written = writeAll(fd, chunks);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, filePath);
    created = false;
    syncDirectory(dir);
    return written;
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* best effort */
      }
    }
    throw new WmigError('CANT_WRITE', `cannot write snapshot ${filePath}: ${describeCause(e)}`, { cause: e });
  }
}

/** Make the rename durable. Not possible everywhere (e.g. Windows), so failures are ignored. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* best effort */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Read and fully validate a snapshot file. Missing or unreadable → WmigError NO_INPUT;
 * damaged → CORRUPT_SNAPSHOT; written by a newer wmig → UNSUPPORTED_VERSION (messages name
 * the file). The snapshot's page data etc. are views into `bytes`.
 */
export function readSnapshotFile(filePath: string): { bytes: Uint8Array; snapshot: Snapshot } {
  const bytes = readWhole(filePath);
  try {
    return { bytes, snapshot: decodeSnapshot(bytes) };
  } catch (e) {
    if (e instanceof WmigError) throw new WmigError(e.kind, `${filePath}: ${e.message}`, { cause: e });
    throw e;
  }
}

function readWhole(filePath: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = fs.openSync(filePath, 'r');
    const size = fs.fstatSync(fd).size;
    // Read in a loop rather than readFileSync, which refuses files over 2 GiB.
    const buf = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = fs.readSync(fd, buf, at, Math.min(size - at, 1 << 30), null);
      if (n === 0) break; // the file shrank while we read: decode reports it as truncated
      at += n;
    }
    return at === size ? buf : buf.subarray(0, at);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WmigError('NO_INPUT', `snapshot file not found: ${filePath}`, { cause: e });
    if (code === 'EISDIR') throw new WmigError('NO_INPUT', `cannot read snapshot ${filePath}: it is a directory`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') {
      throw new WmigError('NO_INPUT', `cannot read snapshot ${filePath}: permission denied`, { cause: e });
    }
    throw new WmigError('NO_INPUT', `cannot read snapshot ${filePath}: ${describeCause(e)}`, { cause: e });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
