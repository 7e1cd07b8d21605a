/** Blocking I/O on host stdio fds, which may be non-blocking pipes (EAGAIN): retry until done. */
// Named imports: `fs.writeSync` would be a generic property lookup on every call (~10 ns).
import { readSync, writeSync } from 'node:fs';
import { nodeErrorCode } from './errno.js';

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
