/**
 * The worker's end of the socket bridge (see socket-bridge.ts for the design). Node has no
 * synchronous socket API, so the main thread owns the listening servers and the connections and
 * forwards their events as messages; the guest's thread drains them synchronously with
 * receiveMessageOnPort while it waits (woken by the bridge, giving way to a freeze). Sends are
 * posted to the main thread, which acknowledges them once it has handed them to the OS; a connection
 * with SEND_HIGH_WATER bytes unacknowledged takes no more until acknowledgements come (see send()).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HostContext } from './context.js';
import { ERRNO, FDFLAGS } from './defs.js';
import { WasiError } from './errno.js';
import type { ListenerHandle, SocketHandle } from './handles.js';

/** Main thread → worker. */
export type BridgeEvent =
  | { t: 'conn'; listener: number; id: number }
  | { t: 'data'; id: number; bytes: Uint8Array }
  | { t: 'end'; id: number }
  /** The connection failed (the peer reset it, or a write to it failed): sends fail with PIPE. */
  | { t: 'reset'; id: number }
  /** `n` bytes of this connection's sends have left the main thread (written to the OS, or dropped with it). */
  | { t: 'flushed'; id: number; n: number };

/** Worker → main thread. */
export type BridgeCommand =
  | { t: 'send'; id: number; bytes: Uint8Array }
  | { t: 'shutdown'; id: number; how: number }
  | { t: 'close'; id: number };

/** What the worker is told about the bridge at start. */
export interface BridgeInit {
  port: MessagePort;
  /** Actual listening addresses ("HOST:PORT"), by listener index = fd order. */
  addresses: string[];
}

/**
 * Bytes a connection may have sent that the main thread has not handed to the OS yet. Beyond it a
 * blocking send waits and a non-blocking one sends what fits, so the main thread holds at most this
 * plus one send per connection, however slowly the peer reads.
 */
export const SEND_HIGH_WATER = 256 * 1024;

export class Connection {
  inbound: Uint8Array[] = [];
  /** Bytes posted to the main thread and not yet acknowledged as flushed. */
  unflushed = 0;
  eof = false;
  /** Reset by the peer: reads see the end, sends fail. */
  broken = false;
  readShut = false;
  writeShut = false;
  constructor(readonly id: number, private readonly client: SocketClient) {}

  buffered(): number {
    return this.inbound.reduce((n, b) => n + b.length, 0);
  }

  close(): void {
    this.client.closeConnection(this);
  }
}

export class SocketClient {
  private readonly conns = new Map<number, Connection>();
  private readonly queues: Connection[][];

  constructor(private readonly port: MessagePort, readonly addresses: string[]) {
    this.queues = addresses.map(() => []);
  }

  private pump(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const e = m.message as BridgeEvent;
      if (e.t === 'conn') {
        const c = new Connection(e.id, this);
        this.conns.set(e.id, c);
        this.queues[e.listener]?.push(c);
      } else {
        const c = this.conns.get(e.id);
        if (c === undefined) continue;
        if (e.t === 'data') c.inbound.push(e.bytes);
        else if (e.t === 'flushed') c.unflushed -= e.n;
        else if (e.t === 'reset') c.broken = c.eof = true;
        else c.eof = true;
      }
    }
  }

  private post(command: BridgeCommand): void {
    this.port.postMessage(command);
  }

  /** Connections accepted by the host and waiting for sock_accept on this listener. */
  waiting(h: ListenerHandle): number {
    this.pump();
    return this.queues[h.index]?.length ?? 0;
  }

  accept(cx: HostContext, h: ListenerHandle, nonblocking: boolean): Connection {
    const attempt = () => {
      this.pump();
      return this.queues[h.index]?.shift() ?? null;
    };
    if (!nonblocking) return cx.block(attempt);
    const c = attempt();
    if (c === null) throw new WasiError(ERRNO.AGAIN, 'no connection waiting');
    return c;
  }

  /** Bytes readable now (0 at EOF), or null when a read would block. */
  available(h: SocketHandle): number | null {
    this.pump();
    const c = h.conn as Connection;
    const n = c.buffered();
    if (n > 0) return n;
    return c.eof || c.readShut ? 0 : null;
  }

  /**
   * One read of up to dst.length bytes (0 at EOF); `peek` leaves them in the buffer. `waitAll`
   * (RECV_WAITALL) waits until the buffer holds dst.length bytes or the stream has ended, taking
   * nothing meanwhile, so the wait can give way to a freeze like any other; a non-blocking
   * receive returns what is there either way.
   */
  recv(cx: HostContext, h: SocketHandle, dst: Uint8Array, options: { peek?: boolean; waitAll?: boolean } = {}): number {
    const c = h.conn as Connection;
    const wanted = options.waitAll ? dst.length : 1;
    const attempt = () => {
      const n = this.available(h);
      return n !== null && (n >= wanted || c.eof || c.readShut) ? true : null;
    };
    if ((h.fdflags & FDFLAGS.NONBLOCK) !== 0) {
      if (this.available(h) === null) throw new WasiError(ERRNO.AGAIN, 'no data');
    } else {
      cx.block(attempt);
    }
    let n = 0;
    const chunks = c.inbound;
    let i = 0;
    while (n < dst.length && i < chunks.length) {
      const b = chunks[i]!;
      const take = Math.min(b.length, dst.length - n);
      dst.set(b.subarray(0, take), n);
      n += take;
      if (!options.peek) {
        if (take === b.length) i++;
        else chunks[i] = b.subarray(take);
      } else i++;
    }
    if (!options.peek) c.inbound = chunks.slice(i);
    return n;
  }

  /**
   * Bytes a send could post now without waiting (0 when shut down for writing: it fails at once),
   * or null when it would block. Learns of acknowledgements only when `size` does not fit already.
   */
  writable(h: SocketHandle, size = SEND_HIGH_WATER): number | null {
    const c = h.conn as Connection;
    if (c.unflushed + size > SEND_HIGH_WATER) this.pump();
    // Ready: the send reports what is wrong.
    if (c.writeShut || c.broken) return 0;
    const room = SEND_HIGH_WATER - c.unflushed;
    return room > 0 ? room : null;
  }

  /**
   * Posts `size` bytes, of which `take(n)` gives the first n. Blocking: waits while the connection
   * is at its high-water mark, posting nothing meanwhile (so the wait can give way to a freeze, and
   * the call runs again whole), then posts everything. Non-blocking (POSIX): posts what fits, AGAIN
   * when nothing does.
   */
  send(cx: HostContext, h: SocketHandle, size: number, take: (n: number) => Uint8Array): number {
    const c = h.conn as Connection;
    if (c.writeShut) throw new WasiError(ERRNO.PIPE, 'socket shut down for writing');
    if (size === 0) return 0;
    let n = size;
    if ((h.fdflags & FDFLAGS.NONBLOCK) !== 0) {
      const room = this.writable(h, size);
      if (room === null) throw new WasiError(ERRNO.AGAIN, 'send buffer full');
      n = Math.min(size, room);
    } else {
      cx.block(() => this.writable(h, size));
    }
    if (c.broken) throw new WasiError(ERRNO.PIPE, 'connection reset by peer');
    c.unflushed += n;
    const bytes = take(n);
    // A fresh buffer of ours: transferred, not copied.
    this.port.postMessage({ t: 'send', id: c.id, bytes } satisfies BridgeCommand, [bytes.buffer as ArrayBuffer]);
    return n;
  }

  shutdown(h: SocketHandle, how: number): void {
    const c = h.conn as Connection;
    if (how & 1) c.readShut = true;
    if (how & 2) c.writeShut = true;
    this.post({ t: 'shutdown', id: c.id, how });
  }

  closeConnection(c: Connection): void {
    if (!this.conns.delete(c.id)) return;
    this.post({ t: 'close', id: c.id });
  }

  /** Why the sockets cannot be captured now, or undefined when they can (no connections anywhere). */
  busy(): string | undefined {
    this.pump();
    const waiting = this.queues.reduce((n, q) => n + q.length, 0);
    const open = this.conns.size - waiting;
    if (open > 0) return `${open} open socket connection(s)`;
    if (waiting > 0) return `${waiting} connection(s) waiting to be accepted`;
    return undefined;
  }
}
