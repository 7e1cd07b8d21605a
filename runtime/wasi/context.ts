/** The state every WASI call works on, and the small helpers the call families share. */
import fs from 'node:fs';
import { FreezeInterrupt, NO_FREEZE_SIGNAL, type FreezeSignal } from '../engine/interrupt.js';
import type { Backend } from '../vfs/backend.js';
import { toFilestat } from '../vfs/hostfs.js';
import { resolveGuestPath } from '../vfs/path.js';
import type { GuestClock } from './clock.js';
import { ERRNO, FSTFLAGS, type Filestat } from './defs.js';
import { WasiError } from './errno.js';
import type { HandleTable, DirHandle, FileHandle, Handle, Mount } from './handles.js';
import { GuestMemory } from './memory.js';
import type { OutputRing } from './output-ring.js';
import type { Entropy } from './random.js';
import { checkRights } from './rights.js';
import type { SocketClient } from './sockets.js';
import type { StdinClient } from './stdin.js';

/** A poll_oneoff that gave way to a freeze: its absolute deadlines, reused when the same call re-runs. */
export interface PendingPoll {
  /** The subscriptions' bytes, hex: the re-run must be the same call. */
  key: string;
  /** Absolute deadline per subscription index (clock subscriptions only), ns as decimal strings. */
  deadlines: Record<number, string>;
}

/** Everything a host is made of; built fresh from a config or from a snapshot by restore. */
export interface HostParts {
  args: string[];
  env: [string, string][];
  mounts: Map<string, Mount>;
  table: HandleTable;
  clock: GuestClock;
  entropy: Entropy;
  pendingPoll?: PendingPoll;
}

export class HostContext implements HostParts {
  readonly mem = new GuestMemory();
  readonly args: string[];
  readonly env: [string, string][];
  readonly mounts: Map<string, Mount>;
  readonly table: HandleTable;
  readonly clock: GuestClock;
  readonly entropy: Entropy;
  pendingPoll: PendingPoll | undefined;
  /** How blocking calls learn of a freeze request (set by the worker). */
  signal: FreezeSignal = NO_FREEZE_SIGNAL;
  /** The worker's end of the socket bridge, when the process has listeners. */
  sockets: SocketClient | undefined;
  /** The worker's end of the stdin bridge, when stdin is a pipe, socket or terminal. */
  stdin: StdinClient | undefined;
  /** Deferred stdout/stderr writes, when either is a regular file, /dev/null or a pipe. */
  output: OutputRing | undefined;

  constructor(p: HostParts) {
    this.args = p.args;
    this.env = p.env;
    this.mounts = p.mounts;
    this.table = p.table;
    this.clock = p.clock;
    this.entropy = p.entropy;
    this.pendingPoll = p.pendingPoll;
  }

  /**
   * Blocks until `attempt` returns a value. It is tried again whenever the signal's epoch moves (a
   * bridge message or a freeze request), never on a timer. When a freeze is requested,
   * `beforeInterrupt` runs and the call gives way with FreezeInterrupt — so `attempt` must have had
   * no effect on the guest while it returned null.
   */
  block<T>(attempt: () => T | null, beforeInterrupt?: () => void): T {
    for (;;) {
      const seen = this.signal.epoch();
      const v = attempt();
      if (v !== null) return v;
      if (this.signal.requested()) {
        beforeInterrupt?.();
        throw new FreezeInterrupt();
      }
      this.signal.sleep(seen);
    }
  }

  /** Any handle, holding `rights` (from NEEDS, rights.ts). */
  handle(fd: number, rights: bigint): Handle {
    const h = this.table.get(fd);
    checkRights(h, rights);
    return h;
  }

  /** A directory handle holding `rights`. */
  dir(fd: number, rights: bigint): DirHandle {
    const h = this.table.get(fd);
    if (h.kind !== 'preopen' && h.kind !== 'dir') throw new WasiError(ERRNO.NOTDIR, `fd ${fd} is not a directory`);
    checkRights(h, rights);
    return h;
  }

  /** A regular file handle holding `rights`; `forDir` is the errno for directories (read wants ISDIR, the rest BADF). */
  file(fd: number, rights: bigint, forDir: number = ERRNO.BADF): FileHandle {
    return this.asFile(this.table.get(fd), fd, rights, forDir);
  }

  /** `h`, the handle at `fd`, if it is a regular file's holding `rights`. */
  asFile(h: Handle, fd: number, rights: bigint, forDir: number = ERRNO.BADF): FileHandle {
    if (h.kind !== 'file') {
      throw new WasiError(h.kind === 'stdio' || h.kind === 'listener' || h.kind === 'socket' ? ERRNO.SPIPE : forDir, `fd ${fd} is not a file`);
    }
    checkRights(h, rights);
    return h;
  }

  filestatOf(h: Handle): Filestat {
    switch (h.kind) {
      case 'stdio':
        return toFilestat(fs.fstatSync(h.hostFd, { bigint: true }));
      case 'file':
        return h.io.stat();
      case 'listener':
      case 'socket':
        return { dev: 0n, ino: 0n, filetype: 6 /* SOCKET_STREAM */, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
      default:
        return h.mount.backend.stat(h.rel, true);
    }
  }

  /** Resolves a guest path argument against directory fd `fd`, which must hold `rights`. */
  path(fd: number, rights: bigint, ptr: number, len: number): { dir: DirHandle; backend: Backend; rel: string; trailingSlash: boolean } {
    const dir = this.dir(fd, rights);
    const { rel, trailingSlash } = resolveGuestPath(dir.rel, this.mem.string(ptr, len));
    return { dir, backend: dir.mount.backend, rel, trailingSlash };
  }

  /** Times for *_set_times: undefined leaves a time alone; both "now" and a value is INVAL. */
  times(atim: bigint, mtim: bigint, fst: number): [bigint | undefined, bigint | undefined] {
    if ((fst & FSTFLAGS.ATIM && fst & FSTFLAGS.ATIM_NOW) || (fst & FSTFLAGS.MTIM && fst & FSTFLAGS.MTIM_NOW) || fst > 15) {
      throw new WasiError(ERRNO.INVAL, 'bad fstflags');
    }
    const now = this.clock.realtime();
    const pick = (value: bigint, set: number, setNow: number) => (fst & setNow ? now : fst & set ? value : undefined);
    return [pick(atim, FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW), pick(mtim, FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW)];
  }
}

/** The imports of one call family: name → implementation over raw wasm arguments. */
export type CallTable = Record<string, (...args: never[]) => number>;

export const u32 = (p: number) => p >>> 0;
