/**
 * The guest's stdin when it is a pipe, socket or terminal, main-thread side (stdin.ts is the worker's).
 *
 * Design: the guest runs synchronously in a worker that must sleep on the control word (to wake for
 * a freeze request), and Node cannot also wait there for a pipe to become readable. So the worker
 * does not read such a stdin: a guest read (or a poll_oneoff readiness check) that finds nothing
 * asks the main thread for up to 64 KiB and sleeps. The main thread
 * reads once — at once if bytes are there, else when libuv reports the fd readable — sends what it
 * got and wakes the worker (the same path as the socket bridge). It never reads unasked: memory
 * stays bounded by one request and flow control is the pipe's own (a writer blocks when it is full).
 *
 * Freezes and read-ahead: a blocking read or a poll takes its request back when it returns
 * without the bytes or gives way to a freeze (cancel, acknowledged by the main thread), and a
 * capture waits for every acknowledgement first. So every byte the main thread took from the host
 * is in the handle's `pending` when the snapshot is written — carried in it and counted in the
 * stdin `offset` — and none is read after. `wmig thaw` replays `pending` before it reads its own
 * stdin, so a pipe shared by the frozen and the thawed process (`… | { wmig run …; wmig thaw …; }`)
 * continues exactly where the frozen guest stopped, and "feed the rest from `offset`" stays right.
 * A request reads ahead up to 64 KiB whatever the guest's read size (a round trip per 1 KiB stdio
 * read made piped input 2.5× slower); like bytes a native program's stdio buffered, what the guest
 * never reads is lost only if it exits without reading it.
 *
 * The fd is re-opened through /proc/self/fd (a new open file description on the same pipe or
 * terminal), because libuv makes what it reads O_NONBLOCK and the shared description belongs to the
 * parent too. A socket (what Node's child_process hands out as a "pipe") cannot be re-opened: its
 * own description is used, and its reader is kept for the life of the thread, since closing it
 * would close the fd. A terminal's end of input (^D) ends stdin for good.
 */
import fs from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import { MessageChannel } from 'node:worker_threads';
import { nodeErrorCode } from './errno.js';
import type { StdinReply, StdinRequest } from './stdin.js';
import type { HostBridge, StdinInit } from './types.js';

/** Reads a host fd that may block, one request at a time, on the main thread's event loop. */
class StdinReader {
  /** libuv's read buffer: one byte, so a wake-up takes nothing beyond the request; the rest is read at once. */
  private readonly probe = new Uint8Array(1);
  private readonly stream: net.Socket;
  private waiting: { bytes: Uint8Array; done: (reply: StdinReply) => void } | undefined;
  private end: StdinReply | undefined;

  /** `fd` becomes O_NONBLOCK (libuv); `owned`: ours to close. */
  constructor(private readonly fd: number, private readonly owned: boolean) {
    // allowHalfOpen: at EOF Node would otherwise end and destroy the socket, closing the fd.
    const options = { readable: true, writable: false, manualStart: true, allowHalfOpen: true, onread: { buffer: this.probe, callback: () => this.onReadable() } };
    this.stream = tty.isatty(fd) ? new tty.ReadStream(fd, options as net.SocketConstructorOpts) : new net.Socket({ fd, ...options } as net.SocketConstructorOpts);
    this.stream.unref();
    this.stream.on('end', () => this.finish(false));
    this.stream.on('error', () => this.finish(true));
  }

  /** Reads up to `n` bytes once, now or when the fd becomes readable, and passes the result to `done`. */
  read(n: number, done: (reply: StdinReply) => void): void {
    if (this.end !== undefined) return done(this.end);
    const bytes = new Uint8Array(n);
    let got: number | null;
    try {
      got = this.readNow(bytes);
    } catch {
      return done(this.finish(true));
    }
    if (got === null) {
      this.waiting = { bytes, done };
      this.stream.resume();
    } else if (got === 0) {
      done(this.finish(false));
    } else {
      done({ t: 'data', bytes: bytes.subarray(0, got) });
    }
  }

  /** Drops the request being waited for; nothing is read until the next one. */
  cancel(): void {
    this.waiting = undefined;
    this.stream.pause();
  }

  release(): void {
    this.cancel();
    if (this.owned) this.stream.destroy();
  }

  /** One non-blocking read: bytes (0 at EOF), or null when none are there. */
  private readNow(dst: Uint8Array): number | null {
    try {
      return fs.readSync(this.fd, dst, 0, dst.length, null);
    } catch (e) {
      const code = nodeErrorCode(e);
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return null;
      throw e;
    }
  }

  /** libuv read one byte into the probe: complete the request with whatever else is there. */
  private onReadable(): boolean {
    const { bytes, done } = this.waiting!; // the stream reads only while a request waits
    this.waiting = undefined;
    bytes[0] = this.probe[0]!;
    let got = 1;
    try {
      got += this.readNow(bytes.subarray(1)) ?? 0;
    } catch {
      // the next request meets the failure
    }
    done({ t: 'data', bytes: bytes.subarray(0, got) });
    return false; // stop reading until asked again
  }

  private finish(failed: boolean): StdinReply {
    this.end ??= { t: 'end', failed };
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.done(this.end);
    return this.end;
  }
}

/** Readers of host fds that could not be re-opened (sockets), by fd: never closed. */
const sharedReaders = new Map<number, StdinReader>();

function openReader(hostFd: number): StdinReader {
  let own: number;
  try {
    own = fs.openSync(`/proc/self/fd/${hostFd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch {
    let reader = sharedReaders.get(hostFd);
    if (reader === undefined) sharedReaders.set(hostFd, (reader = new StdinReader(hostFd, false)));
    return reader;
  }
  try {
    return new StdinReader(own, true);
  } catch (e) {
    fs.closeSync(own);
    throw e;
  }
}

export class StdinBridge implements HostBridge {
  private readonly channel = new MessageChannel();
  private wake: () => void = () => {};
  private reader: StdinReader | undefined;
  private closed = false;

  private constructor(private readonly hostFd: number) {
    this.channel.port1.on('message', (request: StdinRequest) => this.onRequest(request));
  }

  /** A bridge when reading `hostFd` can block (pipe, socket, terminal); files and devices the worker reads itself. */
  static for(hostFd: number): StdinBridge | undefined {
    let st: fs.Stats;
    try {
      st = fs.fstatSync(hostFd);
    } catch {
      return undefined;
    }
    const canBlock = st.isFIFO() || st.isSocket() || (st.isCharacterDevice() && tty.isatty(hostFd));
    return canBlock ? new StdinBridge(hostFd) : undefined;
  }

  /** What the worker needs; `port` must be in the worker's transfer list. */
  get init(): StdinInit {
    return { port: this.channel.port2 };
  }

  get workerPort() {
    return this.channel.port2;
  }

  attach(wake: () => void): void {
    this.wake = wake;
  }

  private reply(reply: StdinReply): void {
    if (this.closed) return;
    this.channel.port1.postMessage(reply);
    this.wake();
  }

  private onRequest(request: StdinRequest): void {
    if (request.t === 'cancel') {
      this.reader?.cancel();
      this.reply({ t: 'cancelled' });
      return;
    }
    try {
      // Opened on the first request: a guest that never reads stdin leaves it untouched.
      this.reader ??= openReader(this.hostFd);
    } catch {
      this.reply({ t: 'end', failed: true });
      return;
    }
    this.reader.read(request.n, (reply) => this.reply(reply));
  }

  /** The process ended or was frozen: stop reading (the worker has taken everything it was sent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader?.release();
    this.channel.port1.close();
  }
}
