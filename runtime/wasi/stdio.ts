/** Blocking I/O on host stdio fds, which may be non-blocking pipes (EAGAIN): retry until done. */
// Named imports: `fs.writeSync` would be a generic property lookup on every call (~10 ns).
import { readSync, writeSync, writevSync } from 'node:fs';
import { ERRNO } from './defs.js';
import { nodeErrorCode, WasiError } from './errno.js';

/** Slices per writev (Linux's IOV_MAX). */
export const IOV_MAX = 1024;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the whole thread (the guest is synchronous; there is nothing else to run). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Writes all of buffer[offset, offset+length), waiting out EAGAIN. */
export function writeAll(hostFd: number, buffer: Uint8Array, offset: number, length: number): void {
  let done = 0;
  while (done < length) {
    try {
      done += writeSync(hostFd, buffer, offset + done, length - done);
    } catch (e) {
      if (nodeErrorCode(e) !== 'EAGAIN') throw e;
      sleepMs(1);
    }
  }
}

/**
 * Writes the slices in order, as one writev where they fit (a write of up to PIPE_BUF bytes to a
 * pipe is then atomic, as the guest's one fd_write is on Linux, not split where its iovecs meet),
 * continuing after partial writes and waiting out EAGAIN. Empty slices are allowed.
 */
export function writevAll(hostFd: number, slices: Uint8Array[]): void {
  let next = 0;
  while (next < slices.length && slices[next]!.length === 0) next++;
  while (next < slices.length) {
    const batch = slices.slice(next, next + IOV_MAX);
    let done: number;
    try {
      done = writevSync(hostFd, batch);
    } catch (e) {
      if (nodeErrorCode(e) !== 'EAGAIN') throw e;
      sleepMs(1);
      continue;
    }
    if (done === 0) throw new WasiError(ERRNO.IO, 'a write made no progress');
    let i = 0;
    while (i < batch.length && done >= batch[i]!.length) done -= batch[i++]!.length;
    next += i;
    if (done > 0) slices[next] = slices[next]!.subarray(done);
    while (next < slices.length && slices[next]!.length === 0) next++;
  }
}

/** One read of up to dst.length bytes; 0 at EOF. Waits out EAGAIN unless `nonblocking`. */
export function readSome(hostFd: number, dst: Uint8Array, nonblocking: boolean): number {
  for (;;) {
    try {
      return readSync(hostFd, dst, 0, dst.length, null);
    } catch (e) {
      const code = nodeErrorCode(e);
      if (code === 'EOF') return 0; // Windows console EOF
      if (code !== 'EAGAIN' || nonblocking) throw e;
      sleepMs(1);
    }
  }
}
