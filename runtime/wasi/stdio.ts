/** Blocking I/O on host stdio fds, which may be non-blocking pipes (EAGAIN): retry until done. */
import fs from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
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
      done += fs.writeSync(hostFd, buffer, offset + done, length - done);
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
      return fs.readSync(hostFd, dst, 0, dst.length, null);
    } catch (e) {
      const code = nodeErrorCode(e);
      if (code === 'EOF') return 0; // Windows console EOF
      if (code !== 'EAGAIN' || nonblocking) throw e;
      sleepMs(1);
    }
  }
}

/**
 * Reads from a host fd that may block (pipe, socket, terminal) without blocking: `tryRead` returns
 * null when nothing is ready, so a blocked guest read can wait in slices and give way to a freeze.
 */
export interface ReadySource {
  /** Bytes read (0 at EOF), or null when a read would block. */
  tryRead(dst: Uint8Array): number | null;
}

/** Wrappers kept alive only for their side effect (O_NONBLOCK on a socket fd), by fd; never closed. */
const keepAlive = new Map<number, unknown>();

function reader(fd: number): ReadySource {
  return {
    tryRead: (dst) => {
      try {
        return fs.readSync(fd, dst, 0, dst.length, null);
      } catch (e) {
        const code = nodeErrorCode(e);
        if (code === 'EOF') return 0;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return null;
        throw e;
      }
    },
  };
}

/**
 * A non-blocking way to read `hostFd`. Regular files and devices never block and are read as they
 * are. A pipe or terminal is re-opened through /proc/self/fd with O_NONBLOCK (a new open file
 * description on the same pipe or tty: the shared one, and so the parent's, is left alone). A
 * socket (what Node's child_process hands out as a "pipe") cannot be re-opened: its description is
 * made non-blocking by wrapping it in a never-started net.Socket (libuv sets O_NONBLOCK); that
 * wrapper is kept for the life of the thread, because closing it would close the fd.
 * Callers keep the result with their handle (see StdioHandle.source).
 */
export function readySource(hostFd: number): ReadySource {
  let st: fs.Stats | undefined;
  try {
    st = fs.fstatSync(hostFd);
  } catch {
    st = undefined;
  }
  let source = reader(hostFd);
  if (st !== undefined && (st.isFIFO() || (st.isCharacterDevice() && tty.isatty(hostFd)))) {
    try {
      source = reader(fs.openSync(`/proc/self/fd/${hostFd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY));
    } catch {
      // no /proc: reads may block
    }
  } else if (st?.isSocket() && !keepAlive.has(hostFd)) {
    try {
      const wrapper = new net.Socket({ fd: hostFd, readable: false, writable: false, manualStart: true } as net.SocketConstructorOpts);
      wrapper.unref();
      keepAlive.set(hostFd, wrapper);
    } catch {
      // reads may block
    }
  }
  return source;
}
