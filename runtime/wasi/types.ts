/** The contract between the WASI host and the rest of the runtime (engine, process, CLI). */
import type { MessagePort } from 'node:worker_threads';

/** A guest directory bound to a backend. Re-bound by guest path on thaw. */
export interface MountSpec {
  /** Guest path of the preopened directory, e.g. "/data". */
  guestPath: string;
  /** 'host': a host directory (sandboxed); 'memory': an in-memory file system carried in the snapshot. */
  kind: 'host' | 'memory';
  /** Host directory, for kind 'host'. */
  hostPath?: string;
  readOnly?: boolean;
  /**
   * kind 'host' only: the directory's files travel inside the snapshot (captured at freeze) and are
   * written out on thaw into the directory bound there, or a fresh temporary directory.
   */
  carry?: boolean;
}

/** The listening sockets of a process (see socket-bridge.ts); the port must be transferred to the worker. */
export type { BridgeInit } from './sockets.js';
import type { BridgeInit } from './sockets.js';
import type { OutputInit } from './output-ring.js';

/** The guest's stdin read by the main thread (see stdin-bridge.ts); the port must be transferred to the worker. */
export interface StdinInit {
  port: MessagePort;
}

/** The main-thread end of a bridge to the worker. */
export interface HostBridge {
  /** The worker's end: it goes into the worker's transfer list. */
  readonly workerPort: MessagePort;
  /** How to wake the worker after a message (its blocking calls sleep on the control word). */
  attach(wake: () => void): void;
  /** The process ended or was frozen. */
  close(): void;
}

/** Deterministic mode: virtual clocks and random_get from this seed. */
export interface DeterministicSpec {
  seed: string;
}

/** Host file descriptors that back the guest's fds 0, 1 and 2. */
export interface StdioSpec {
  stdin: number;
  stdout: number;
  stderr: number;
}

export interface WasiConfig {
  /** argv, including argv[0]. */
  args: string[];
  /** Environment in order, as the guest sees it. */
  env: [string, string][];
  mounts: MountSpec[];
  stdio?: StdioSpec;
  /** Listening sockets handed to the guest as fds after the preopens. */
  sockets?: BridgeInit;
  /** Present when stdin is a pipe, socket or terminal: the main thread reads it for the guest. */
  stdinBridge?: StdinInit;
  /** Present when stdout or stderr is a regular file, /dev/null or a pipe: their writes are deferred (output-ring.ts). */
  output?: OutputInit;
  deterministic?: DeterministicSpec;
}

/** Options for re-creating a host from a snapshot on the destination. */
export interface WasiRestoreOptions {
  /** Destination bindings by guest path; host mounts not named here keep the source's host path. */
  mounts?: MountSpec[];
  stdio?: StdioSpec;
  /** Listening sockets bound on this machine for the snapshot's listeners, in fd order. */
  sockets?: BridgeInit;
  stdinBridge?: StdinInit;
  output?: OutputInit;
}

/** What the host contributes to a snapshot: plain JSON plus file blobs referenced by index. */
export interface HostCapture {
  host: unknown;
  files: Uint8Array[];
}

/** A WASI import implementation: i32/i64/f64 arguments in, an errno (or nothing) out. */
export type WasiFunction = (...args: never[]) => number | void;
