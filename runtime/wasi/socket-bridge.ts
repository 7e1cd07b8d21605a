/**
 * Pre-opened listening sockets (`--listen HOST:PORT`, like wasmtime's --tcplisten), main-thread side.
 *
 * Design: Node has no synchronous socket API and the guest runs synchronously in a worker thread,
 * so the main thread owns the net.Servers and every connection. It forwards connections, data and
 * EOF to the worker as messages on a MessageChannel and then wakes the worker (the wake epoch on
 * the process's control word, which freeze requests move too). The worker drains the messages
 * synchronously (receiveMessageOnPort) inside its blocking calls, which sleep on that epoch and give
 * way to a freeze (FreezeInterrupt), so neither a blocked accept/recv nor a freeze request ever
 * blocks the main thread. Sends go the other way as messages; the main thread writes them and
 * acknowledges each one when Node has handed it to the OS (its write callback), and the worker stops
 * posting while a connection has SEND_HIGH_WATER bytes unacknowledged (sockets.ts). So a guest
 * streaming to a slow reader waits, and this thread holds at most the mark plus one send per
 * connection, whatever the guest sends.
 *
 * Freeze policy: a process with open (or accepted-but-not-yet-taken) connections refuses to freeze
 * (WmigError BUSY, it keeps running); between connections it freezes, and on thaw its listeners
 * are re-bound by guest fd to the addresses the destination names. A draining freeze (`hold`) keeps
 * new connections here, unread, so the open ones can finish; if the guest goes on they reach it
 * (`release`), if it froze they are reset, as the listening socket's backlog is when it closes.
 */
import net from 'node:net';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { WmigError } from '../errors.js';
import type { BridgeCommand, BridgeEvent, BridgeInit } from './sockets.js';
import type { HostBridge } from './types.js';

/** "HOST:PORT", "[V6]:PORT" or "PORT" (127.0.0.1); port 0 picks a free port. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WmigError('USAGE', `expected HOST:PORT to listen on, got "${value}"`);
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Why a bind fails, in words (Node's own message repeats the syscall and the address). */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'not an address of this machine',
  ENOTFOUND: 'unknown host name',
};

const formatAddress = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export class SocketBridge implements HostBridge {
  private readonly channel = new MessageChannel();
  private readonly conns = new Map<number, net.Socket>();
  private nextId = 1;
  private wake: () => void = () => {};
  private closed = false;
  /** Bytes of the guest's sends held here, not yet handed to the OS; and the most ever held. */
  private held = 0;
  private peakHeld = 0;
  /** While a freeze drains, connections that arrive wait here, paused. */
  private holding = false;
  private parked: { listener: number; socket: net.Socket }[] = [];

  private constructor(private readonly servers: net.Server[], readonly addresses: string[]) {
    servers.forEach((server, listener) => server.on('connection', (socket) => this.onConnection(listener, socket)));
    this.channel.port1.on('message', (command: BridgeCommand) => this.onCommand(command));
  }

  /** Binds every address (before the guest runs); fails with CANT_LISTEN if one cannot be bound. */
  static async listen(addresses: string[]): Promise<SocketBridge> {
    const servers: net.Server[] = [];
    const bound: string[] = [];
    try {
      for (const address of addresses) {
        const { host, port } = parseListenAddress(address);
        // allowHalfOpen: a peer that shuts down its sending side still gets the guest's answer.
        const server = net.createServer({ pauseOnConnect: false, allowHalfOpen: true });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        servers.push(server);
        const actual = server.address() as net.AddressInfo;
        bound.push(formatAddress(actual.address, actual.port));
      }
    } catch (e) {
      for (const s of servers) s.close();
      const reason = LISTEN_FAILURES[(e as NodeJS.ErrnoException).code ?? ''] ?? (e as Error).message;
      throw new WmigError('CANT_LISTEN', `cannot listen on ${addresses[servers.length]}: ${reason}`, { cause: e });
    }
    return new SocketBridge(servers, bound);
  }

  /** What the worker needs; `port` must be in the worker's transfer list. */
  get init(): BridgeInit {
    return { port: this.channel.port2, addresses: this.addresses };
  }

  get workerPort() {
    return this.channel.port2;
  }

  /** What the guest's sends occupy on this thread now and at most so far (flow control bounds it). */
  get sendBacklog(): { bytes: number; peak: number } {
    return { bytes: this.held, peak: this.peakHeld };
  }

  attach(wake: () => void): void {
    this.wake = wake;
  }

  private post(event: BridgeEvent): void {
    if (this.closed) return;
    this.channel.port1.postMessage(event);
    this.wake();
  }

  /** Keeps new connections from the guest until `release` (a freeze is draining the open ones). */
  hold(): void {
    this.holding = true;
  }

  /** Hands the connections that arrived while holding to the guest, which goes on running. */
  release(): void {
    this.holding = false;
    const parked = this.parked;
    this.parked = [];
    for (const { listener, socket } of parked) {
      if (socket.destroyed) continue;
      this.onConnection(listener, socket);
      socket.resume();
    }
  }

  private onConnection(listener: number, socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.holding) {
      socket.pause();
      // A reset while parked must not go unhandled; release skips the destroyed socket.
      socket.on('error', () => {});
      this.parked.push({ listener, socket });
      return;
    }
    const id = this.nextId++;
    this.conns.set(id, socket);
    socket.setNoDelay(true);
    this.post({ t: 'conn', listener, id });
    socket.on('data', (chunk: Buffer) => this.post({ t: 'data', id, bytes: new Uint8Array(chunk) }));
    socket.on('end', () => this.post({ t: 'end', id }));
    socket.on('close', () => {
      if (this.conns.delete(id)) this.post({ t: 'end', id });
    });
    // ECONNRESET, or EPIPE on a write: the guest's next send fails instead of vanishing.
    socket.on('error', () => this.post({ t: 'reset', id }));
  }

  private onCommand(command: BridgeCommand): void {
    const socket = this.conns.get(command.id);
    if (socket === undefined) {
      // The connection is gone: its bytes go nowhere, and a guest waiting to send must go on.
      if (command.t === 'send') this.post({ t: 'flushed', id: command.id, n: command.bytes.length });
      return;
    }
    switch (command.t) {
      case 'send':
        this.write(command.id, socket, command.bytes);
        return;
      case 'shutdown':
        if (command.how & 2) socket.end();
        return;
      case 'close':
        this.conns.delete(command.id);
        socket.end();
        socket.once('finish', () => socket.destroy());
        return;
    }
  }

  /** Writes a send; the callback (written to the OS, or failed with the socket) acknowledges it. */
  private write(id: number, socket: net.Socket, bytes: Uint8Array): void {
    this.held += bytes.length;
    this.peakHeld = Math.max(this.peakHeld, this.held);
    socket.write(bytes, () => {
      this.held -= bytes.length;
      this.post({ t: 'flushed', id, n: bytes.length });
    });
  }

  /** Stops listening and drops every connection (the process ended or was frozen). */
  close(): void {
    if (this.closed) return;
    // The guest's last sends and closes may still be queued (the worker's exit message travels on
    // another port and can arrive first): carry them out before dropping the connections.
    for (let m = receiveMessageOnPort(this.channel.port1); m !== undefined; m = receiveMessageOnPort(this.channel.port1)) {
      this.onCommand(m.message as BridgeCommand);
    }
    this.closed = true;
    for (const s of this.servers) s.close();
    for (const c of this.conns.values()) c.end();
    this.conns.clear();
    for (const { socket } of this.parked) socket.resetAndDestroy();
    this.parked = [];
    this.channel.port1.close();
  }
}
